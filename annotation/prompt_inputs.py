"""The sentences a prompt run asks about: from a CoNLL file, one sentence a line, or raw articles.

Raw text is split into sentences and tokenised with :mod:`nerd.tokenization`, the tokeniser ``import``
uses, so the tokens in a request are the tokens its answer is aligned to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from nerd.conll import read_conll
from nerd.errors import InputError
from nerd.jsonl import BOM, read_jsonl, text_lines
from nerd.spans import parse_tag
from nerd.tokenization import split_sentences, tokenize_words


class InputFormat(StrEnum):
    """How the input file is laid out."""

    auto = "auto"
    conll = "conll"
    lines = "lines"  # one sentence a line
    articles = "articles"  # running text, articles or paragraphs separated by blank lines
    jsonl = "jsonl"  # one article a line, text in a field


@dataclass(frozen=True)
class SourceSentence:
    """A sentence to annotate and where it came from (1-based line of the input)."""

    tokens: tuple[str, ...]
    line: int


def detect_format(path: Path) -> InputFormat:
    """CoNLL when the first line looks like ``token ... TAG``, JSONL by extension, else lines."""
    if path.suffix == ".jsonl":
        return InputFormat.jsonl
    try:
        with path.open(encoding="utf-8-sig") as stream:  # a BOM is no part of the first word
            first = next((line for line in stream if line.strip()), "")
    except UnicodeDecodeError:
        raise InputError("not valid UTF-8", path=path) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", path=path) from None
    columns = first.split()
    if columns and columns[0] == "-DOCSTART-":
        return InputFormat.conll
    if len(columns) >= 2:
        try:
            parse_tag(columns[-1])
        except ValueError:
            return InputFormat.lines
        return InputFormat.conll
    return InputFormat.lines


def read_sentences(
    path: Path, fmt: InputFormat = InputFormat.auto, *, text_field: str = "text"
) -> list[SourceSentence]:
    """Tokenised sentences of an input file.

    Raises:
        InputError: an unreadable file, or (JSONL) a line that is not an object with ``text_field``.
    """
    if fmt is InputFormat.auto:
        fmt = detect_format(path)
    if fmt is InputFormat.conll:
        corpus = read_conll(path)
        return [SourceSentence(sentence.tokens, sentence.line or 0) for sentence in corpus.sentences]
    if fmt is InputFormat.jsonl:
        return _jsonl_sentences(path, text_field)
    text = _read_text(path)
    sentences: list[SourceSentence] = []
    if fmt is InputFormat.lines:
        # Only "\n" ends a line (nerd.jsonl.text_lines): U+2028 or \x1c inside a sentence stays in it.
        for number, line in enumerate(text_lines(text), start=1):
            tokens = tuple(tokenize_words(line))
            if tokens:
                sentences.append(SourceSentence(tokens, number))
    else:
        line = 1
        for block in text.split("\n\n"):
            for sentence in split_sentences(block):
                tokens = tuple(tokenize_words(sentence))
                if tokens:
                    sentences.append(SourceSentence(tokens, line))
            line += block.count("\n") + 2
    return sentences


def _jsonl_sentences(path: Path, text_field: str) -> list[SourceSentence]:
    sentences: list[SourceSentence] = []
    try:
        for line in read_jsonl(path):
            if line.problem is not None:
                raise InputError(f"not JSON: {line.detail}", path=path, line=line.number)
            value = line.value.get(text_field) if isinstance(line.value, dict) else None
            if not isinstance(value, str):
                raise InputError(
                    f"no string field {text_field!r}", path=path, line=line.number, field=text_field
                )
            for sentence in split_sentences(value):
                tokens = tuple(tokenize_words(sentence))
                if tokens:
                    sentences.append(SourceSentence(tokens, line.number))
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", path=path) from None
    return sentences


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", path=path) from None
    try:
        return data.decode("utf-8").removeprefix(BOM).replace("\r\n", "\n")
    except UnicodeDecodeError as error:
        raise InputError("not valid UTF-8", path=path, line=data[: error.start].count(b"\n") + 1) from None
