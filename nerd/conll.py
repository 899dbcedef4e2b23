"""Reading and writing CoNLL files: one token a line, the tag in the last column, blank lines between
sentences, optional ``-DOCSTART-`` lines between documents.

Reading validates every line and normalises tags to IOB2; writing a file that was read gives the same
bytes back whenever the input already was IOB2 with single-space columns and single blank lines.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from nerd.atomic import atomic_write_text
from nerd.errors import ConllFormatError, NerdWarning
from nerd.spans import TagScheme, continues_nothing, iob1_to_iob2, labels_of, parse_tag

DOCSTART = "-DOCSTART-"
SchemeOption = Literal["auto", "iob1", "iob2"]
# Characters that print as nothing and are not whitespace to str.strip(): byte-order mark, zero-width
# space, non-joiner, joiner, word joiner.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


@dataclass(frozen=True)
class Sentence:
    """One sentence: its tokens, IOB2 tags and any middle columns (POS, chunk) kept for writing back."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    columns: tuple[tuple[str, ...], ...] = ()
    docstart: str | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.tags)} tags")
        if self.columns and len(self.columns) != len(self.tokens):
            raise ValueError("middle columns must have one row per token")


@dataclass(frozen=True)
class ConllCorpus:
    """The sentences of one CoNLL file, plus what the file says about itself."""

    sentences: list[Sentence]
    scheme: TagScheme
    column_count: int
    path: str | None = None
    trailing_docstarts: tuple[str, ...] = field(default=())

    @property
    def labels(self) -> set[str]:
        """Entity types used anywhere in the corpus."""
        return labels_of(tag for sentence in self.sentences for tag in sentence.tags)


@dataclass
class _RawSentence:
    rows: list[list[str]]
    first_line: int
    docstart: str | None


def _split_lines(text: str, source: str) -> Iterator[tuple[int, list[str] | None, str]]:
    """(line number, columns or None for a blank line, the line) for each line of the text."""
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        stripped = line.strip()
        if not stripped:
            yield number, None, line
            continue
        if not stripped.strip(_INVISIBLE + " \t"):
            # Corpora carry these: WNUT-17's emerging.dev.conll has a line of only U+FEFF mid-file.
            codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in stripped if c in _INVISIBLE}))
            warnings.warn(
                f"{source}:{number}: a line of only invisible characters ({codes}) is read as a blank line",
                NerdWarning,
                stacklevel=2,
            )
            yield number, None, line
            continue
        yield number, stripped.split(), line


def _group(text: str, source: str) -> tuple[list[_RawSentence], int, tuple[str, ...]]:
    sentences: list[_RawSentence] = []
    rows: list[list[str]] = []
    first_line = 0
    pending_docstart: str | None = None
    column_count = 0
    for number, columns, line in _split_lines(text, source):
        if columns is None:
            if rows:
                sentences.append(_RawSentence(rows, first_line, pending_docstart))
                rows, pending_docstart = [], None
            continue
        if columns[0] == DOCSTART:
            if rows:
                sentences.append(_RawSentence(rows, first_line, pending_docstart))
                rows, pending_docstart = [], None
            # Two document markers in a row mean an empty document; keep the last marker's text.
            pending_docstart = line.strip()
            continue
        if len(columns) < 2:
            raise ConllFormatError(
                f"expected a token and a tag separated by whitespace, got {len(columns)} column",
                path=source,
                line=number,
            )
        if column_count == 0:
            column_count = len(columns)
        elif len(columns) != column_count:
            raise ConllFormatError(
                f"{len(columns)} columns where the file has {column_count}",
                path=source,
                line=number,
            )
        if not rows:
            first_line = number
        columns.append(str(number))  # carried along so tag errors can name their line
        rows.append(columns)
    if rows:
        sentences.append(_RawSentence(rows, first_line, pending_docstart))
        pending_docstart = None
    trailing = (pending_docstart,) if pending_docstart is not None else ()
    return sentences, column_count, trailing


def parse_conll(text: str, *, source: str = "<string>", scheme: SchemeOption = "auto") -> ConllCorpus:
    """Parse CoNLL text (2 or more whitespace-separated columns, tag last).

    Args:
        text: the file's content.
        source: the name used in error messages.
        scheme: ``iob2`` rejects an ``I-`` tag that continues nothing, ``iob1`` reads ``I-`` as opening
            an entity, ``auto`` picks IOB1 when any ``I-`` tag opens one.

    Raises:
        ConllFormatError: a line with the wrong number of columns, a malformed tag, or (IOB2) an ``I-``
            tag that continues nothing; the error names the source and line.
    """
    raw_sentences, column_count, trailing = _group(text, source)
    tag_rows: list[list[str]] = []
    for raw in raw_sentences:
        tags = [row[-2] for row in raw.rows]
        for row, tag in zip(raw.rows, tags, strict=True):
            try:
                parse_tag(tag)
            except ValueError as error:
                raise ConllFormatError(str(error), path=source, line=int(row[-1]), field="tag") from None
        tag_rows.append(tags)

    detected: TagScheme
    if scheme == "auto":
        detected = "iob1" if any(continues_nothing(tags) is not None for tags in tag_rows) else "iob2"
    else:
        detected = scheme
    sentences: list[Sentence] = []
    for raw, tags in zip(raw_sentences, tag_rows, strict=True):
        if detected == "iob2":
            bad = continues_nothing(tags)
            if bad is not None:
                raise ConllFormatError(
                    f"tag {tags[bad]!r} continues no entity (IOB2); read with scheme iob1 or auto "
                    "if the file is IOB1",
                    path=source,
                    line=int(raw.rows[bad][-1]),
                    field="tag",
                )
        else:
            tags = iob1_to_iob2(tags)
        sentences.append(
            Sentence(
                tokens=tuple(row[0] for row in raw.rows),
                tags=tuple(tags),
                columns=tuple(tuple(row[1:-2]) for row in raw.rows) if column_count > 2 else (),
                docstart=raw.docstart,
                line=raw.first_line,
            )
        )
    return ConllCorpus(sentences, detected, column_count or 2, source, trailing)


def read_conll(path: str | Path, *, scheme: SchemeOption = "auto", allow_empty: bool = False) -> ConllCorpus:
    """Read a CoNLL file; see :func:`parse_conll`.

    A byte-order mark at the start is skipped; a line of only invisible characters (BOM, zero-width
    spaces) is a blank line, with a :class:`NerdWarning` naming it.

    Raises:
        ConllFormatError: the file is missing, not UTF-8, malformed (naming the line), or holds no
            sentence (unless ``allow_empty``, for a caller with a better message of its own).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConllFormatError(f"cannot read: {error.strerror or error}", path=path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConllFormatError("not valid UTF-8", path=path, line=line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    corpus = parse_conll(text, source=str(path), scheme=scheme)
    if not corpus.sentences and not allow_empty:
        what = "the file is empty" if not text.strip() else "only blank and -DOCSTART- lines"
        raise ConllFormatError(f"no sentences: {what}", path=path)
    return corpus


def format_conll(sentences: Sequence[Sentence], *, trailing_docstarts: Sequence[str] = ()) -> str:
    """CoNLL text for sentences: single spaces between columns, one blank line after each sentence."""
    parts: list[str] = []
    for sentence in sentences:
        if sentence.docstart is not None:
            parts.append(sentence.docstart + "\n\n")
        lines = []
        for index, (token, tag) in enumerate(zip(sentence.tokens, sentence.tags, strict=True)):
            middle = sentence.columns[index] if sentence.columns else ()
            lines.append(" ".join((token, *middle, tag)))
        parts.append("\n".join(lines) + "\n\n")
    for marker in trailing_docstarts:
        parts.append(marker + "\n\n")
    return "".join(parts)


def write_conll(
    path: str | Path, sentences: Sequence[Sentence], *, trailing_docstarts: Sequence[str] = ()
) -> None:
    """Write sentences as CoNLL, atomically."""
    atomic_write_text(path, format_conll(sentences, trailing_docstarts=trailing_docstarts))
