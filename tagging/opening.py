"""The one place that opens "a model", whatever it is: an exported bundle (``bundle.json``) runs in
onnxruntime, a training checkpoint (``config.json``) in PyTorch, through the same windows and decoder."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from nerd.errors import InputError
from nerd.model_bundle import MANIFEST
from nerd.tagging.onnx_tagger import OnnxTagger
from nerd.tagging.torch_tagger import TorchTagger


class ModelKind(StrEnum):
    bundle = "bundle"
    checkpoint = "checkpoint"


def model_kind(model: Path) -> ModelKind:
    """Which kind of model a directory holds.

    Raises:
        InputError: neither an exported bundle nor a training checkpoint.
    """
    if (model / MANIFEST).is_file():
        return ModelKind.bundle
    if (model / "config.json").is_file():
        return ModelKind.checkpoint
    raise InputError(
        f"neither an exported bundle ({MANIFEST}) nor a training checkpoint (config.json)", path=model
    )


def open_tagger(model: Path, *, threads: int | None = None) -> OnnxTagger | TorchTagger:
    """The tagger for a bundle (onnxruntime, CPU) or a training checkpoint (PyTorch, CPU).

    Raises:
        InputError: neither kind; ModelBundleError: a bundle that fails its checks.
    """
    from nerd.tagging.onnx_tagger import default_threads

    if model_kind(model) is ModelKind.bundle:
        return OnnxTagger(model, threads=threads)
    return TorchTagger(model, threads or default_threads())
