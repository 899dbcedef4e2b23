"""The training sources: distilled (imported teacher data), soft (``nerd label``'s per-word label
distributions), original (human CoNLL), and the dev set.

A distilled file is read as ``nerd import`` training records when it ends in ``.jsonl``, as CoNLL
otherwise (``nerd import --conll`` writes both); a soft file is ``nerd label``'s records. Every
sentence keeps the file and line it came from, so a problem found later can still say where.
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
    """One sentence to learn from or score on: words and their IOB2 tags, and for soft-labelled data
    each word's label distribution (``soft`` rows, columns named by ``soft_labels``)."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    soft_labels: tuple[str, ...] | None = None
    soft: tuple[tuple[float, ...], ...] | None = None


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
        """The entity types its tags (and soft labels) use (the label checks ask for them many times over)."""
        columns = {label for example in self.examples for label in example.soft_labels or ()}
        tags = {tag for example in self.examples for tag in example.tags}
        return frozenset(tag[2:] for tag in tags | columns if tag != "O")

    def __len__(self) -> int:
        return len(self.examples)


def _read_file(path: Path, role: str) -> list[Example]:
    if not path.is_file():
        raise InputError(f"{role} file not found", path=path)
    if role == "soft":
        return _read_soft(path)
    if role == "distilled" and path.suffix == ".jsonl":
        return [Example(tuple(record.tokens), tuple(record.tags)) for record in read_records(path)]
    corpus = read_conll(path, allow_empty=True)  # load_source names the file's role when it is empty
    return [Example(sentence.tokens, sentence.tags) for sentence in corpus.sentences]


def _read_soft(path: Path) -> list[Example]:
    examples = []
    for number, record in enumerate(read_records(path), start=1):
        if record.labels is None or record.probabilities is None:
            raise InputError(
                "no soft labels (labels, probabilities): a soft source is nerd label's output; give "
                "hard-labelled records with --distilled",
                path=path,
                line=number,
            )
        examples.append(
            Example(
                tuple(record.tokens),
                tuple(record.tags),
                tuple(record.labels),
                tuple(tuple(row) for row in record.probabilities),
            )
        )
    return examples


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
    columns = None
    if example.soft_labels is not None:
        # A column may now share its label with another (merged types): encoding adds them up.
        columns = tuple(_renamed(label, mapping) for label in example.soft_labels)
    return Example(example.tokens, tuple(map_types(example.tags, mapping)), columns, example.soft)


def _renamed(label: str, mapping: dict[str, str]) -> str:
    if label == "O":
        return label
    target = mapping.get(label[2:], label[2:])
    return "O" if target == "O" else f"{label[:2]}{target}"
