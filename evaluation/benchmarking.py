"""``nerd bench`` in process: latency and throughput of a bundle over batch sizes and sentence lengths,
beside the same checkpoint in PyTorch and in transformers' ``pipeline`` when the checkpoint is at hand."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from nerd.evaluation.http_load import percentiles_ms

Tagger = Callable[[Sequence[Sequence[str]]], Any]


@dataclass(frozen=True)
class Backend:
    name: str
    tag: Tagger


def sentences_of_length(pool: Sequence[Sequence[str]], words: int, count: int) -> list[list[str]]:
    """``count`` sentences of exactly ``words`` words, cut from (and joined across) real sentences.

    >>> sentences_of_length([["a", "b", "c"]], 4, 2)
    [['a', 'b', 'c', 'a'], ['b', 'c', 'a', 'b']]
    """
    stream = [word for sentence in pool for word in sentence] or ["word"]
    out, at = [], 0
    for _ in range(count):
        sentence = []
        while len(sentence) < words:
            sentence.append(stream[at % len(stream)])
            at += 1
        out.append(sentence)
    return out


class BenchRow(TypedDict):
    """One (backend, batch size, sentence length) in process: latency per call and throughput."""

    backend: str
    batch_size: int
    words: int
    calls: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    sentences_per_s: float
    tokens_per_s: float


def measure(
    backend: Backend,
    pool: Sequence[Sequence[str]],
    *,
    batch_sizes: Sequence[int],
    lengths: Sequence[int],
    seconds: float,
    tokens_of: Callable[[Sequence[Sequence[str]]], int],
) -> list[BenchRow]:
    """One row per (batch size, length): per-call latency percentiles and sentences/tokens per second."""
    rows: list[BenchRow] = []
    for length in lengths:
        for batch_size in batch_sizes:
            batch = sentences_of_length(pool, length, batch_size)
            backend.tag(batch)  # warm-up: first call of a shape sets up kernels
            calls: list[float] = []
            started = time.perf_counter()
            while not calls or time.perf_counter() - started < seconds:
                tick = time.perf_counter()
                backend.tag(batch)
                calls.append(time.perf_counter() - tick)
            total = sum(calls)
            timing = percentiles_ms(calls)
            rows.append(
                {
                    "backend": backend.name,
                    "batch_size": batch_size,
                    "words": length,
                    "calls": len(calls),
                    "p50_ms": timing["p50_ms"],
                    "p95_ms": timing["p95_ms"],
                    "p99_ms": timing["p99_ms"],
                    "sentences_per_s": round(batch_size * len(calls) / total, 1),
                    "tokens_per_s": round(tokens_of(batch) * len(calls) / total, 1),
                }
            )
    return rows


def bundle_backend(
    bundle: Path, runtime: str, provider: str, threads: int | None, *, spinning: bool = False
) -> tuple[Backend, Callable[..., int]]:
    """A bundle on one runtime (onnxruntime on ``provider``, or OpenVINO on the CPU) and its token counter."""
    from nerd.tagging.opening import open_bundle

    engine = open_bundle(
        bundle,
        runtime=runtime,  # type: ignore[arg-type]
        providers=(provider,),
        threads=threads,
        spinning=spinning,
    )

    def tokens(batch: Sequence[Sequence[str]]) -> int:
        return sum(len(window) for window in engine.encoder.encode(batch))

    where = engine.device.removesuffix("ExecutionProvider").removeprefix("OpenVINO ")
    name = f"{'onnx' if runtime == 'onnxruntime' else runtime} {engine.manifest.variant} {where}"
    return Backend(name, lambda batch: engine.analyse(batch, batch_size=max(1, len(batch)))), tokens


def pytorch_backend(checkpoint_dir: Path, threads: int) -> Backend:
    from nerd.tagging.torch_tagger import TorchTagger

    tagger = TorchTagger(checkpoint_dir, threads)
    return Backend("pytorch fp32 CPU", lambda batch: tagger.tag(batch, batch_size=len(batch)))


def pipeline_backend(checkpoint_dir: Path, threads: int) -> Backend:
    import torch
    from transformers import pipeline

    torch.set_num_threads(threads)
    tagger = pipeline(
        "token-classification", model=str(checkpoint_dir), aggregation_strategy="first", device="cpu"
    )

    def tag(batch: Sequence[Sequence[str]]) -> Any:
        return tagger([" ".join(words) for words in batch], batch_size=len(batch))

    return Backend("transformers pipeline CPU", tag)
