"""Proof that an exported variant is the trained model: logits, labels and F1 against PyTorch.

Both sides read the same windows (the bundle's own tokenizer, through the serving engine's encoder) and
are decoded by the same function, so any difference is the model's. ``fp32`` must reproduce every logit
within ``FP32_TOLERANCE`` and every word label exactly; every variant must keep its entity-level micro
F1 on the sample within ``allowed_drop`` points of the PyTorch model's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NotRequired, TypedDict

import numpy as np

from nerd.sample_sentences import Sample
from nerd.scoring import entity_scores
from nerd.tagging.bundle_tagger import BundleTagger
from nerd.tagging.checkpoint import Checkpoint
from nerd.tagging.encoding import Window, WordEncoder
from nerd.tagging.onnx_tagger import CPU
from nerd.tagging.torch_tagger import TorchReference
from nerd.word_scores import tag_windows

FP32_TOLERANCE = 1e-4
DEFAULT_ALLOWED_DROP = 0.5  # F1 points (percent), the most a variant may lose against PyTorch
BATCH_SIZE = 32


@dataclass
class ReferenceRun:
    """The PyTorch model's tags, logits and time on the sample, computed once for all variants."""

    windows: list[Window]
    tags: list[list[str]]
    logits: dict[tuple[int, ...], np.ndarray]
    seconds: float
    f1: float


def reference_run(checkpoint: Checkpoint, sample: Sample, tagger: BundleTagger, threads: int) -> ReferenceRun:
    """Run the PyTorch model over the sample in the checkpoint's own windows, in the bundle's batches."""
    reference = TorchReference(checkpoint, threads)
    # The checkpoint's own windows, not the bundle's: a bundle that lost the word shapes the model was
    # trained with reads other inputs, and fails here.
    encoder = WordEncoder(
        checkpoint.path / "tokenizer.json", checkpoint.max_length, shapes=checkpoint.word_shapes
    )
    windows = encoder.encode(sample.sentences)
    captured: dict[tuple[int, ...], np.ndarray] = {}
    tick = time.perf_counter()
    tags = tag_windows(
        windows,
        [len(s) for s in sample.sentences],
        checkpoint.labels,
        lambda chosen: reference.logits(chosen, tagger.pad_id),
        BATCH_SIZE,
        on_batch=lambda batch, scores: captured.__setitem__(tuple(batch), scores),
    )
    seconds = time.perf_counter() - tick
    f1 = entity_scores(sample.gold, tags)["micro"]["f1"]
    return ReferenceRun(windows, tags, captured, seconds, f1)


class VerificationReport(TypedDict):
    """How one variant compares with the PyTorch model on the sample (``bundle.json``'s verification)."""

    variant: str
    runtime: str
    provider: str
    sample: str
    sample_sha256: str | None
    sentences: int
    max_abs_logit_difference: float
    word_labels_differing: int
    words: int
    f1_pytorch: float
    f1: float
    f1_drop_points: float
    allowed_drop_points: float
    agreement_f1: float
    seconds: float
    seconds_pytorch: float
    model_bytes: int
    passed: bool
    failures: list[str]
    export_seconds: NotRequired[float]  # added by the export around it


def verify_variant(
    tagger: BundleTagger,
    variant: str,
    sample: Sample,
    reference: ReferenceRun,
    *,
    allowed_drop: float = DEFAULT_ALLOWED_DROP,
) -> VerificationReport:
    """Check one loaded variant against the reference run; the result says what passed and what did not."""
    largest = 0.0

    def compare(batch: list[int], scores: np.ndarray) -> None:
        nonlocal largest
        expected = reference.logits[tuple(batch)]
        for row, index in enumerate(batch):
            length = len(reference.windows[index])
            difference = np.abs(scores[row, :length] - expected[row, :length]).max()
            largest = max(largest, float(difference))

    tick = time.perf_counter()
    tags = tag_windows(
        reference.windows,
        [len(s) for s in sample.sentences],
        tagger.labels,
        tagger.logits,
        BATCH_SIZE,
        on_batch=compare,
    )
    seconds = time.perf_counter() - tick
    f1 = entity_scores(sample.gold, tags)["micro"]["f1"]
    drop = round((reference.f1 - f1) * 100, 2)
    differing = sum(
        a != b
        for ours, theirs in zip(tags, reference.tags, strict=True)
        for a, b in zip(ours, theirs, strict=True)
    )
    failures = []
    # What the bundle feeds its model when it serves must be what the checkpoint was trained on.
    own = [(w.input_ids, w.shape_ids) for w in tagger.encoder.encode(sample.sentences)]
    if own != [(w.input_ids, w.shape_ids) for w in reference.windows]:
        failures.append(
            "the bundle encodes the sample otherwise than the checkpoint (tokenizer or word shapes)"
        )
    if variant == "fp32" and largest > FP32_TOLERANCE:
        failures.append(f"max |logit difference| {largest:.2e} exceeds {FP32_TOLERANCE:.0e}")
    if variant == "fp32" and differing:
        failures.append(f"{differing} word labels differ from PyTorch's")
    if drop > allowed_drop:
        failures.append(f"micro F1 {f1:.4f} is {drop} points below PyTorch's {reference.f1:.4f}")
    words = sum(len(s) for s in sample.sentences)
    return {
        "variant": variant,
        "runtime": tagger.runtime,
        "provider": tagger.device,
        "sample": sample.source,
        "sample_sha256": sample.sha256,
        "sentences": len(sample.sentences),
        "max_abs_logit_difference": largest,
        "word_labels_differing": differing,
        "words": words,
        "f1_pytorch": reference.f1,
        "f1": f1,
        "f1_drop_points": drop,
        "allowed_drop_points": allowed_drop,
        "agreement_f1": entity_scores(reference.tags, tags)["micro"]["f1"],
        "seconds": round(seconds, 3),
        "seconds_pytorch": round(reference.seconds, 3),
        "model_bytes": sum((tagger.path / name).stat().st_size for name in tagger.model_files),
        "passed": not failures,
        "failures": failures,
    }


def providers_for(variant: str, cuda_available: bool) -> tuple[str, ...]:
    """Where a variant is verified: fp16 on CUDA when there is one; int8 and fp32 on the CPU.

    >>> providers_for("int8", True)
    ('CPUExecutionProvider',)
    """
    if variant == "fp16" and cuda_available:
        return ("CUDAExecutionProvider",)
    return (CPU,)
