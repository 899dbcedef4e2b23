"""What ``nerd evaluate`` scores: an exported bundle through the serving engine, or a training checkpoint.

A bundle runs exactly as ``nerd serve`` runs it (same windows, stride, aggregation and batch size), so
the score is the score of what is deployed. A checkpoint runs in PyTorch with the same windows, so the
two can be compared directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def load_predictor(model: Path, *, threads: int | None = None) -> Predictor:
    """A loaded bundle directory or training checkpoint directory, ready to tag sentences."""
    if (model / MANIFEST).is_file():
        return _bundle(model, threads)
    if (model / "config.json").is_file():
        return _checkpoint(model, threads)
    raise InputError(
        f"neither an exported bundle ({MANIFEST}) nor a training checkpoint (config.json)", path=model
    )


def _bundle(model: Path, threads: int | None) -> Predictor:
    from service.engine import OnnxTagger
    from service.settings import ServiceSettings

    defaults = ServiceSettings(_env_file=None)
    engine = OnnxTagger(model, threads=threads)
    engine.analyse([["warm", "up"]])

    def run(sentences: Sequence[Sequence[str]]) -> Predictions:
        engine.session_seconds = 0.0
        tick = time.perf_counter()
        results = engine.analyse(
            sentences,
            aggregation=defaults.aggregation,
            batch_size=defaults.max_batch_size,
            stride=defaults.stride,
        )
        return Predictions([r.tags for r in results], engine.session_seconds, time.perf_counter() - tick)

    manifest = engine.manifest
    return Predictor(
        list(engine.labels), f"bundle {manifest.name} ({manifest.variant}, {engine.providers[0]})", run
    )


def _checkpoint(model: Path, threads: int | None) -> Predictor:
    from export.checkpoint import load_checkpoint
    from export.verification import TorchReference
    from service.encoding import WordEncoder, pad_token_id
    from service.engine import default_threads, tag_windows
    from service.settings import ServiceSettings

    defaults = ServiceSettings(_env_file=None)
    checkpoint = load_checkpoint(model)
    reference = TorchReference(checkpoint, threads or default_threads())
    encoder = WordEncoder(model / "tokenizer.json", checkpoint.max_length)
    pad = pad_token_id(model, encoder)

    def run(sentences: Sequence[Sequence[str]]) -> Predictions:
        spent = 0.0

        def logits(windows: Sequence[Any]) -> Any:
            nonlocal spent
            started = time.perf_counter()
            scores = reference.logits(windows, pad)
            spent += time.perf_counter() - started
            return scores

        tick = time.perf_counter()
        windows = encoder.encode(sentences, stride=defaults.stride)
        tags = tag_windows(
            windows, [len(s) for s in sentences], checkpoint.labels, logits, defaults.max_batch_size
        )
        return Predictions(tags, spent, time.perf_counter() - tick)

    return Predictor(checkpoint.labels, f"checkpoint {checkpoint.name} (PyTorch, CPU)", run)
