"""The one place that opens "a model", whatever it is: an exported bundle (``bundle.json``) runs in
onnxruntime or OpenVINO, a training checkpoint (``config.json``) in PyTorch, through the same windows
and decoder."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

from nerd.bundle_checks import verified_bundle
from nerd.bundle_reading import BundleContents
from nerd.errors import InputError, ModelBundleError
from nerd.model_bundle import MANIFEST
from nerd.tagging.bundle_tagger import BundleTagger
from nerd.tagging.onnx_tagger import CPU, OnnxTagger, default_threads
from nerd.tagging.openvino_tagger import OpenVinoTagger
from nerd.tagging.runtime_choice import Runtime
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


def open_bundle(
    bundle: Path | BundleContents,
    *,
    runtime: Runtime = "onnxruntime",
    providers: Sequence[str] = (CPU,),
    threads: int | None = None,
    spinning: bool = False,
) -> BundleTagger:
    """A bundle's tagger on ``runtime``; ``providers`` and ``spinning`` are onnxruntime's.

    Raises:
        ModelBundleError: a bundle that fails its checks, or lacks the model the runtime needs.
        ProviderUnavailable: the runtime or device asked for is not installed here.
    """
    contents = bundle if isinstance(bundle, BundleContents) else verified_bundle(bundle)
    if runtime == "openvino":
        if providers[0] != CPU:
            raise ModelBundleError("the OpenVINO model runs on the CPU only", path=contents.directory)
        return OpenVinoTagger(contents, threads=threads)
    return OnnxTagger(contents, providers=providers, threads=threads, spinning=spinning)


def open_tagger(
    model: Path, *, threads: int | None = None, runtime: Runtime = "onnxruntime"
) -> BundleTagger | TorchTagger:
    """The tagger for a bundle (onnxruntime or OpenVINO, CPU) or a training checkpoint (PyTorch, CPU).

    Raises:
        InputError: neither kind; ModelBundleError: a bundle that fails its checks.
    """
    if model_kind(model) is ModelKind.bundle:
        return open_bundle(model, runtime=runtime, threads=threads)
    if runtime == "openvino":
        raise InputError("--runtime openvino runs exported bundles, not training checkpoints", path=model)
    return TorchTagger(model, threads or default_threads())
