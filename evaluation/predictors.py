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
from nerd.errors import InputError
from nerd.model_bundle import MANIFEST


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


def load_predictor(model: Path, *, threads: int | None = None, decoding: Decoding | None = None) -> Predictor:
    """A loaded bundle directory or training checkpoint directory, ready to tag sentences.

    ``decoding`` None decodes as ``nerd serve`` would (its ``NERD_DECODING`` setting, viterbi by default).
    """
    if (model / MANIFEST).is_file():
        return _bundle(model, threads, decoding)
    if (model / "config.json").is_file():
        return _checkpoint(model, threads, decoding)
    raise InputError(
        f"neither an exported bundle ({MANIFEST}) nor a training checkpoint (config.json)", path=model
    )


def _bundle(model: Path, threads: int | None, decoding: Decoding | None) -> Predictor:
    from nerd.service.engine import OnnxTagger
    from nerd.service.settings import ServiceSettings

    defaults = ServiceSettings(_env_file=None)
    chosen = decoding or defaults.decoding
    engine = OnnxTagger(model, threads=threads)
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
    description = f"bundle {manifest.name} ({manifest.variant}, {engine.providers[0]}, {chosen})"
    return Predictor(list(engine.labels), description, run, chosen)


def _checkpoint(model: Path, threads: int | None, decoding: Decoding | None) -> Predictor:
    from nerd.export.verification import TorchTagger
    from nerd.service.engine import default_threads
    from nerd.service.settings import ServiceSettings

    defaults = ServiceSettings(_env_file=None)
    chosen = decoding or defaults.decoding
    tagger = TorchTagger(model, threads or default_threads())

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
