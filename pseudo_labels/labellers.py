"""The models that label: a bundle (onnxruntime) or a training checkpoint (PyTorch), or the mean of several.

A labeller gives each word its label distribution, read at the word's first sub-token as training
labels it; an ensemble averages its members' distributions (their label lists must be the same).
Its ``sha256`` identifies exactly which weights labelled the data: the model file's digest, or for an
ensemble the digest of its members' digests in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nerd.checksums import file_sha256
from nerd.errors import ConfigError
from nerd.tagging.runtime_choice import Runtime

Distributions = Callable[[Sequence[Sequence[str]]], list[np.ndarray]]


@dataclass(frozen=True)
class Labeller:
    """Words in, per-word label distributions out."""

    name: str
    sha256: str
    labels: tuple[str, ...]
    distributions: Distributions


def load_labeller(
    model: Path, *, threads: int, batch_size: int = 64, runtime: Runtime = "onnxruntime"
) -> Labeller:
    """A bundle directory (``bundle.json``, run by ``runtime``) or a training checkpoint
    (``config.json``), loaded.

    Raises:
        InputError: neither, or a model that cannot be loaded.
    """
    from nerd.tagging.bundle_tagger import BundleTagger
    from nerd.tagging.opening import open_tagger

    tagger = open_tagger(model, threads=threads, runtime=runtime)

    def run(sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        return tagger.word_probabilities(sentences, batch_size=batch_size)

    if isinstance(tagger, BundleTagger):
        digest = tagger.model_sha256
        # onnxruntime's name as it always was: a run labelled before OpenVINO existed still resumes.
        where = "" if tagger.runtime == "onnxruntime" else f", {tagger.runtime}"
        name = f"bundle {tagger.manifest.name} ({tagger.manifest.variant}{where})"
        return Labeller(name, digest, tuple(tagger.labels), run)
    weights = model / "model.safetensors"
    digest = file_sha256(weights) if weights.is_file() else file_sha256(model / "pytorch_model.bin")
    return Labeller(f"checkpoint {model.resolve().name}", digest, tuple(tagger.labels), run)


def ensemble(members: Sequence[Labeller]) -> Labeller:
    """One labeller whose distributions are the mean of the members'.

    Raises:
        ConfigError: no member, or members whose label lists differ.
    """
    if not members:
        raise ConfigError("no model to label with")
    if len(members) == 1:
        return members[0]
    labels = members[0].labels
    for member in members[1:]:
        if member.labels != labels:
            raise ConfigError(
                f"an ensemble needs one label list: {members[0].name} has {', '.join(labels)}; "
                f"{member.name} has {', '.join(member.labels)}"
            )

    def mean(sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        runs = [member.distributions(sentences) for member in members]
        return [np.mean(np.stack(rows), axis=0) for rows in zip(*runs, strict=True)]

    digest = hashlib.sha256("\n".join(member.sha256 for member in members).encode()).hexdigest()
    name = "ensemble of " + ", ".join(member.name for member in members)
    return Labeller(name, digest, labels, mean)
