"""What ``nerd evaluate`` scores: an exported bundle through the serving engine, or a training checkpoint.

A bundle runs exactly as ``nerd serve`` runs it (same windows, stride, aggregation, decoding and batch
size), so the score is the score of what is deployed. A checkpoint runs in PyTorch with the same windows
and decoding, so the two can be compared directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nerd.decoding import Decoding
from nerd.tagging.bundle_tagger import BundleTagger
from nerd.tagging.opening import open_tagger
from nerd.tagging.reading import ReadingSettings
from nerd.tagging.runtime_choice import Runtime
from nerd.tagging.torch_tagger import TorchTagger


@dataclass
class Predictions:
    tags: list[list[str]]
    model_seconds: float  # inside the model runtime (onnxruntime session or torch forward)
    inference_seconds: float  # tokenising, windowing, running and decoding


@dataclass
class Predictor:
    labels: list[str]
    description: str
    run: Callable[[Sequence[Sequence[str]]], Predictions]
    decoding: Decoding


def load_predictor(
    model: Path,
    *,
    threads: int | None = None,
    decoding: Decoding | None = None,
    runtime: Runtime | None = None,
) -> Predictor:
    """A loaded bundle directory or training checkpoint directory, ready to tag sentences.

    ``decoding`` and ``runtime`` None choose as ``nerd serve`` would (its ``NERD_DECODING`` and
    ``NERD_RUNTIME`` settings: viterbi and onnxruntime by default).

    Raises:
        InputError: neither a bundle nor a checkpoint (:func:`nerd.tagging.opening.model_kind`).
    """
    tagger = open_tagger(model, threads=threads, runtime=runtime or ReadingSettings(_env_file=None).runtime)
    if isinstance(tagger, BundleTagger):
        return _bundle(tagger, decoding)
    return _checkpoint(tagger, decoding)


def _bundle(engine: BundleTagger, decoding: Decoding | None) -> Predictor:
    defaults = ReadingSettings(_env_file=None)
    chosen = decoding or defaults.decoding
    engine.analyse([["warm", "up"]])

    def run(sentences: Sequence[Sequence[str]]) -> Predictions:
        engine.session_seconds = 0.0
        tick = time.perf_counter()
        results = engine.analyse(
            sentences,
            aggregation=defaults.aggregation,
            decoding=chosen,
            batch_size=defaults.max_batch_size,
            # No token cap: a whole file sorted by length already runs in even batches, where the cap
            # only adds calls (CoNLL dev: 3.21 s against 3.03). With fixed activation scales (the int8
            # recipe) the answers are the same either way.
            stride=defaults.stride,
        )
        return Predictions([r.tags for r in results], engine.session_seconds, time.perf_counter() - tick)

    manifest = engine.manifest
    description = f"bundle {manifest.name} ({manifest.variant}, {engine.device}, {chosen})"
    return Predictor(list(engine.labels), description, run, chosen)


def _checkpoint(tagger: TorchTagger, decoding: Decoding | None) -> Predictor:
    defaults = ReadingSettings(_env_file=None)
    chosen = decoding or defaults.decoding

    def run(sentences: Sequence[Sequence[str]]) -> Predictions:
        tagger.model_seconds = 0.0
        tick = time.perf_counter()
        tags = tagger.tag(
            sentences,
            batch_size=defaults.max_batch_size,
            stride=defaults.stride,
            decoding=chosen,
        )
        return Predictions(tags, tagger.model_seconds, time.perf_counter() - tick)

    return Predictor(
        tagger.labels, f"checkpoint {tagger.checkpoint.name} (PyTorch, CPU, {chosen})", run, chosen
    )
