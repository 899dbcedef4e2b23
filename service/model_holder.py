"""The loaded model of a running service, its readiness, and atomic reloads.

Requests read ``holder.engine`` once per model call, so a reload swaps one reference: a batch already
running finishes on the old engine, the next one runs on the new engine, and nothing fails in between.
"""

from __future__ import annotations

import ctypes
import gc
import json
import threading
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from nerd.bundle_checks import verified_bundle
from nerd.errors import ConfigError, NerdError
from nerd.service.settings import ServiceSettings
from nerd.tagging.bundle_tagger import BundleTagger
from nerd.tagging.onnx_tagger import CPU, CUDA, ProviderUnavailable
from nerd.tagging.opening import open_bundle

WARM_UP = ["Warm", "up", "sentence", "from", "Oslo", "."]


def load_engine(model_dir: Path, settings: ServiceSettings, *, root: Path | None = None) -> BundleTagger:
    """A verified, warmed-up engine on the device the settings ask for.

    The bundle is read once: its checksums, its signature (when one is required) and the model that
    loads are all the same bytes. ``root``: the bundle must lie below it (a reload by name).

    Raises:
        ModelBundleError: a bundle that fails its checksums or signature, or cannot be loaded.
        ProviderUnavailable: the device asked for is not available.
    """
    contents = verified_bundle(model_dir, root=root, public_key=signature_key(settings))
    providers = (CUDA, CPU) if settings.device == "cuda" else (CPU,)
    engine = open_bundle(
        contents,
        runtime=settings.runtime,
        providers=providers,
        threads=settings.threads,
        spinning=settings.spinning,
    )
    # One short call, then the largest batch of full windows: onnxruntime sizes its memory arena to the
    # biggest tensors it has seen, so this keeps the first busy minute from growing the process (and
    # OpenVINO compiles those two shapes now rather than on a caller's time).
    engine.analyse([WARM_UP])
    full_window = WARM_UP * (engine.manifest.max_length // len(WARM_UP))
    engine.analyse([full_window] * settings.max_batch_size, batch_size=settings.max_batch_size)
    return engine


def signature_key(settings: ServiceSettings) -> Path | None:
    """The public key a bundle's signature must verify with: none unless ``require_signature``.

    Raises:
        ConfigError: a signature required and no public key given.
    """
    if not settings.require_signature:
        return None
    if settings.public_key_file is None:
        raise ConfigError("--require-signature needs --public-key (NERD_PUBLIC_KEY_FILE)")
    return settings.public_key_file


class ModelHolder:
    """The current engine (or why there is none) and the lock that serialises reloads."""

    def __init__(self, settings: ServiceSettings, model_dir: Path) -> None:
        self.settings = settings
        self.model_dir = model_dir
        self.engine: BundleTagger | None = None
        self.not_ready_reason = "starting"
        self.reload_lock = threading.Lock()

    def load(self) -> None:
        """Load at start-up. A bad bundle raises (the service refuses to start); a missing device
        leaves the service alive but not ready, so an orchestrator sees why."""
        try:
            self.engine = load_engine(self.model_dir, self.settings)
            self.not_ready_reason = ""
        except ProviderUnavailable as error:
            self.not_ready_reason = str(error)

    def reload(self, model_dir: Path | None = None) -> BundleTagger:
        """Load a bundle beside the current one and swap it in; the current one stays on any error.

        ``model_dir``: a bundle below the models root (checked again once it is open), or None for the
        current one."""
        with self.reload_lock:
            target = model_dir or self.model_dir
            root = self.settings.models_root if model_dir is not None else None
            engine = load_engine(target, self.settings, root=root)
            self.engine, self.model_dir, self.not_ready_reason = engine, target, ""
            release_freed_memory()
            return engine

    @property
    def ready(self) -> bool:
        return self.engine is not None and not self.not_ready_reason

    def require(self) -> BundleTagger:
        if self.engine is None:
            raise NotReady(self.not_ready_reason or "no model loaded")
        return self.engine

    def training_summary(self) -> dict[str, Any] | None:
        """A few facts from the bundle's training card, if it has one."""
        engine = self.require()
        if not engine.training_card:
            return None
        try:
            card = json.loads(engine.training_card)
        except (ValueError, RecursionError):
            return None
        if not isinstance(card, dict):
            return None
        files = {
            part: [_file_name(entry.get("path")) for entry in facts.get("files", [])]
            for part, facts in card.get("data", {}).items()
            if isinstance(facts, dict)
        }
        return {
            "base_model": _file_name(card.get("base_model")),
            "schedule": (card.get("schedule") or {}).get("name"),
            "seed": card.get("seed"),
            "best_epoch": card.get("best_epoch"),
            "dev_micro_f1": ((card.get("best_dev") or {}).get("micro") or {}).get("f1"),
            "data": files,
        }


def _file_name(path: Any) -> Any:
    """The last part of a path of the training machine: where it lay there is nobody else's business.

    >>> _file_name("/home/ann/data/train.txt"), _file_name("C:\\data\\dev.txt"), _file_name(None)
    ('train.txt', 'dev.txt', None)
    """
    if not isinstance(path, str):
        return path
    return PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name


def public_verification(verification: dict[str, Any]) -> dict[str, Any]:
    """The manifest's verification with the sample file named, not placed on the exporting machine (the
    built-in sample, which has no checksum, is a description, not a path)."""
    if not verification or not verification.get("sample_sha256"):
        return verification
    return {**verification, "sample": _file_name(verification.get("sample"))}


def release_freed_memory() -> None:
    """Hand the memory of a replaced session back to the system.

    A dropped onnxruntime session frees its memory into glibc's heaps, which keep it: 100 reloads of
    a 23 MB model took a server from 296 to 455 MB. ``malloc_trim`` returns the free pages (a no-op
    where glibc is not the allocator).
    """
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


class NotReady(NerdError):
    """No model is loaded (yet)."""
