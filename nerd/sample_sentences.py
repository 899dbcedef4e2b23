"""Labelled sentences to check or measure a model on: a CoNLL file, or the built-in sample of invented
sentences (``verification_sample.conll``) that export verifies and calibrates on and bench measures with
when no file is given."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from nerd.checksums import file_sha256
from nerd.conll import parse_conll, read_conll


@dataclass(frozen=True)
class Sample:
    """Labelled sentences to verify on."""

    source: str
    sha256: str | None
    sentences: list[list[str]]
    gold: list[list[str]]


def load_sample(path: Path | None) -> Sample:
    """The CoNLL file given, or the built-in sample of invented sentences."""
    if path is not None:
        corpus = read_conll(path)
        source, digest = str(path), file_sha256(path)
    else:
        text = resources.files("nerd").joinpath("verification_sample.conll").read_text(encoding="utf-8")
        corpus = parse_conll(text, source="built-in sample")
        source, digest = "built-in sample (nerd/verification_sample.conll)", None
    return Sample(
        source=source,
        sha256=digest,
        sentences=[list(s.tokens) for s in corpus.sentences],
        gold=[list(s.tags) for s in corpus.sentences],
    )
