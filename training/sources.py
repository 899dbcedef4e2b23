"""The training sources: distilled (imported teacher data) and original (human CoNLL), and the dev set.

A distilled file is read as ``nerd import`` training records when it ends in ``.jsonl``, as CoNLL
otherwise (``nerd import --conll`` writes both). Every sentence keeps the file and line it came from,
so a problem found later can still say where.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nerd.checksums import file_sha256
from nerd.conll import read_conll
from nerd.errors import InputError
from nerd.records import read_records
from nerd.spans import map_types


@dataclass(frozen=True)
class Example:
    """One sentence to learn from or score on: words and their IOB2 tags."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class SourceFile:
    """A file a source was read from, with what the training card records of it."""

    path: str
    sha256: str
    sentences: int


@dataclass(frozen=True)
class Source:
    """All sentences of one role (``distilled``, ``original`` or ``dev``), in file order."""

    role: str
    files: tuple[SourceFile, ...]
    examples: tuple[Example, ...]

    @functools.cached_property
    def types(self) -> frozenset[str]:
        """The entity types its tags use (the label checks ask for them many times over)."""
        return frozenset(tag[2:] for example in self.examples for tag in example.tags if tag != "O")

    def __len__(self) -> int:
        return len(self.examples)


def _read_file(path: Path, role: str) -> list[Example]:
    if not path.is_file():
        raise InputError(f"{role} file not found", path=path)
    if role == "distilled" and path.suffix == ".jsonl":
        return [Example(tuple(record.tokens), tuple(record.tags)) for record in read_records(path)]
    corpus = read_conll(path, allow_empty=True)  # load_source names the file's role when it is empty
    return [Example(sentence.tokens, sentence.tags) for sentence in corpus.sentences]


def load_source(role: str, paths: Sequence[Path]) -> Source:
    """The sentences of every file of one role.

    Raises:
        InputError: a missing or malformed file (with its line), or a file without sentences.
        ConllFormatError: a CoNLL file whose tag scheme is neither IOB1 nor IOB2.
    """
    files: list[SourceFile] = []
    examples: list[Example] = []
    for path in paths:
        path = Path(path)
        read = _read_file(path, role)
        if not read:
            raise InputError(f"{role} file has no sentences", path=path)
        files.append(SourceFile(str(path), file_sha256(path), len(read)))
        examples.extend(read)
    return Source(role, tuple(files), tuple(examples))


def relabel(source: Source, mapping: dict[str, str]) -> Source:
    """The source with entity types renamed by ``mapping``; a type mapped to ``O`` is dropped."""
    if not mapping:
        return source
    return Source(source.role, source.files, tuple(_relabel_example(e, mapping) for e in source.examples))


def _relabel_example(example: Example, mapping: dict[str, str]) -> Example:
    return Example(example.tokens, tuple(map_types(example.tags, mapping)))
