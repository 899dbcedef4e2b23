"""``nerd export``: build every requested variant in a staging directory, verify it, then install it.

Nothing appears under ``onnx-<variant>/`` until every variant has passed verification; a failed export
leaves the output directory as it was (the staging directory is removed), and one killed at any moment
is finished by the same command (``interrupted_exports.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from nerd.atomic import OutputError, atomic_write_text
from nerd.bundle_checks import verified_bundle
from nerd.bundle_reading import checksums
from nerd.errors import ConfigError, NerdError
from nerd.export.interrupted_exports import (
    Installation,
    earlier_installation,
    fingerprint,
    install,
    new_staging,
    write_journal,
)
from nerd.export.onnx_variants import Int8Target, convert_fp16, copy_support_files, export_fp32, quantize_int8
from nerd.export.openvino_model import build_openvino_model, check_openvino_export
from nerd.export.verification import (
    DEFAULT_ALLOWED_DROP,
    ReferenceRun,
    VerificationReport,
    providers_for,
    reference_run,
    verify_variant,
)
from nerd.model_bundle import MANIFEST, MODEL_FILE, Manifest, OpenVinoModel, Variant
from nerd.sample_sentences import Sample, load_sample
from nerd.tagging.checkpoint import CARD_FILES, Checkpoint
from nerd.tagging.onnx_tagger import CUDA, OnnxTagger, default_threads
from nerd.tagging.openvino_tagger import OpenVinoTagger
from nerd.word_shapes import SHAPE_NAMES

_BUNDLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PRODUCERS = ("nerd", "torch", "transformers", "optimum", "optimum-onnx", "onnx", "onnxruntime")


class VerificationFailed(NerdError):
    """At least one variant did not reproduce the trained model; nothing was installed."""

    def __init__(self, results: list[VerificationReport]) -> None:
        self.results = results
        failed = [
            f"{r['variant']} ({r['runtime']}): {'; '.join(r['failures'])}" for r in results if not r["passed"]
        ]
        super().__init__("verification failed, nothing was written: " + " | ".join(failed))


@dataclass
class ExportRequest:
    """What to export, from where, to where."""

    checkpoint: Checkpoint
    variants: Sequence[Variant]
    out_dir: Path
    name: str | None = None  # the bundle's name; None: the out_dir's name
    verify_on: Path | None = None
    calibrate_on: Path | None = None  # None: the verification sentences
    allowed_drop: float = DEFAULT_ALLOWED_DROP
    int8_target: Int8Target = "avx512_vnni"
    opset: int | None = None
    openvino: bool = False  # also an OpenVINO model in the int8 bundle (export/openvino_model.py)
    force: bool = False
    threads: int = field(default_factory=default_threads)

    @property
    def bundle_name(self) -> str:
        return check_bundle_name(self.name if self.name is not None else self.out_dir.resolve().name)


def check_bundle_name(name: str) -> str:
    """A bundle name fit for a page title and an archive's file name, or a ConfigError saying why not."""
    if not _BUNDLE_NAME.fullmatch(name):
        raise ConfigError(
            f"bundle name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def bundle_dir(out_dir: Path, variant: str) -> Path:
    return out_dir / f"onnx-{variant}"


def producer_versions() -> dict[str, str]:
    versions = {}
    for name in PRODUCERS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def _opset(model: Path) -> int:
    import onnx

    graph = onnx.load(str(model), load_external_data=False)
    return next(entry.version for entry in graph.opset_import if entry.domain in {"", "ai.onnx"})


def _check_targets(request: ExportRequest) -> None:
    check_bundle_name(request.bundle_name)  # refused now, not after minutes of export
    try:
        request.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{request.out_dir}: cannot create: {error.strerror or error}") from None
    if not os.access(request.out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"{request.out_dir}: not writable")


def _check_existing(request: ExportRequest) -> None:
    existing = [
        bundle_dir(request.out_dir, v) for v in request.variants if bundle_dir(request.out_dir, v).exists()
    ]
    if existing and not request.force:
        names = ", ".join(str(path) for path in existing)
        raise OutputError(f"{names}: already exists (--force replaces it)")


def _write_manifest(
    directory: Path,
    request: ExportRequest,
    variant: Variant,
    quantization: dict[str, Any] | None,
    verification: dict[str, Any],
    openvino: OpenVinoModel | None = None,
) -> Manifest:
    """Checksum the variant's files, write its ``bundle.json``, and return what was written."""
    checkpoint = request.checkpoint
    manifest = Manifest(
        name=request.bundle_name,
        variant=variant,
        labels=checkpoint.labels,
        max_length=checkpoint.max_length,
        opset=_opset(directory / MODEL_FILE),
        producers=producer_versions(),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # The directory's name only: a bundle travels, and the maker's paths are nobody else's business.
        source_model=checkpoint.name,
        training_card="training_card.json" if (directory / "training_card.json").is_file() else None,
        quantization=quantization,
        verification=verification,
        files=checksums(directory),
        word_shapes=list(SHAPE_NAMES) if checkpoint.word_shapes else None,
        openvino=openvino,
    )
    _save_manifest(directory, manifest)
    return manifest


def _save_manifest(directory: Path, manifest: Manifest) -> None:
    atomic_write_text(directory / MANIFEST, json.dumps(manifest.model_dump(), indent=2) + "\n")


def _build_variant(
    request: ExportRequest, variant: Variant, raw: Path, dest: Path, calibration: Sample
) -> dict[str, Any] | None:
    dest.mkdir()
    quantization = None
    if variant == "fp32":
        shutil.copy2(raw / MODEL_FILE, dest / MODEL_FILE)
    elif variant == "int8":
        # 41 invented sentences (the built-in sample) fixed the activation scales as well for CoNLL dev
        # as 512 sentences of CoNLL train did.
        quantization = quantize_int8(
            raw,
            dest,
            request.int8_target,
            calibration=calibration.sentences,
            max_length=request.checkpoint.max_length,
            shapes=request.checkpoint.word_shapes,
        )
        # The file's name and checksum: the exporting machine's paths are nobody else's business.
        quantization["calibration"] = {
            "source": Path(calibration.source).name if calibration.sha256 else calibration.source,
            "sha256": calibration.sha256,
        }
    else:
        quantization = convert_fp16(raw, dest)
    copy_support_files(raw, dest)
    for name in ("ort_config.json",):
        # optimum's own record of the quantisation; the manifest carries the same facts.
        (dest / name).unlink(missing_ok=True)
    _copy_card(request.checkpoint.path, dest)
    return quantization


def _copy_card(checkpoint: Path, dest: Path) -> None:
    """The training card, with each path of the training machine cut to its file name."""
    card_path = checkpoint / CARD_FILES[0]
    if not card_path.is_file():
        return
    card = json.loads(card_path.read_text(encoding="utf-8"))
    renames: dict[str, str] = {}

    def own_name(path: Any) -> Any:
        if not isinstance(path, str) or not path:
            return path
        renames[path] = Path(path).name
        return renames[path]

    card["base_model"] = own_name(card.get("base_model"))
    for source in card.get("data", {}).values():
        for entry in source.get("files", []):
            entry["path"] = own_name(entry.get("path"))
    atomic_write_text(dest / CARD_FILES[0], json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    markdown = checkpoint / CARD_FILES[1]
    if markdown.is_file():
        page = markdown.read_text(encoding="utf-8")
        # Longest first, so that a path which begins another is not cut inside it.
        for path in sorted(renames, key=len, reverse=True):
            page = page.replace(path, renames[path])
        atomic_write_text(dest / CARD_FILES[1], page)


def export_bundles(
    request: ExportRequest, on_step: Callable[[str], None] = lambda _message: None
) -> list[VerificationReport]:
    """Export, verify and install every requested variant; returns each variant's verification result.

    Raises:
        OutputError: an unwritable output directory, or existing bundles without ``force``.
        InputError: a checkpoint optimum cannot export.
        VerificationFailed: a variant that does not reproduce the trained model (nothing installed).
    """
    import onnxruntime

    _check_targets(request)
    if request.openvino:
        if "int8" not in request.variants:
            raise ConfigError("--openvino writes its model into the int8 bundle: add int8 to --variants")
        check_openvino_export()
    identity = _fingerprint(request)
    earlier = earlier_installation(request.out_dir, identity)
    if earlier is not None:
        if not earlier.installed:
            on_step("finishing the install of an interrupted export (its bundles were verified)")
            try:
                install(earlier, request.out_dir)
            finally:
                shutil.rmtree(earlier.staging, ignore_errors=True)
        return [{**result, "finished_earlier": earlier.installed} for result in earlier.results]  # type: ignore[misc]
    _check_existing(request)
    cuda = CUDA in onnxruntime.get_available_providers()
    sample = load_sample(request.verify_on)
    calibration = load_sample(request.calibrate_on) if request.calibrate_on is not None else sample
    staging = new_staging(request.out_dir)
    try:
        raw = staging / "raw"
        tick = time.perf_counter()
        on_step("exporting the checkpoint to ONNX with optimum")
        export_fp32(request.checkpoint, raw, opset=request.opset)
        export_seconds = time.perf_counter() - tick
        reference: ReferenceRun | None = None
        results: list[VerificationReport] = []
        for variant in request.variants:
            checked, reference = _build_and_verify(
                request,
                variant,
                raw,
                staging,
                (sample, calibration),
                cuda,
                export_seconds,
                reference,
                on_step,
            )
            results.extend(checked)
        if not all(result["passed"] for result in results):
            raise VerificationFailed(results)
        digests = {
            v: verified_bundle(bundle_dir(staging, v), keep_bytes=False).digest for v in request.variants
        }
        installation = Installation(identity, staging, list(request.variants), digests, list(results))
        # From here on a killed export is finished by the same command: the journal says what to install.
        write_journal(request.out_dir, installation)
        on_step("installing the verified bundles")
        install(installation, request.out_dir)
        return results
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _build_and_verify(
    request: ExportRequest,
    variant: str,
    raw: Path,
    staging: Path,
    samples: tuple[Any, Any],
    cuda: bool,
    export_seconds: float,
    reference: ReferenceRun | None,
    on_step: Callable[[str], None],
) -> tuple[list[VerificationReport], ReferenceRun]:
    """Build one variant in the staging directory and verify it (on OpenVINO too where it has that
    model); returns its verification results and the PyTorch reference run (made on the first variant,
    shared by the others)."""
    sample, calibration = samples
    tick = time.perf_counter()
    on_step(f"building {variant}")
    dest = bundle_dir(staging, variant)
    quantization = _build_variant(request, variant, raw, dest, calibration)
    openvino = None
    if request.openvino and variant == "int8":
        on_step("quantising for OpenVINO with NNCF")
        openvino = build_openvino_model(
            raw,
            dest,
            calibration=calibration.sentences,
            max_length=request.checkpoint.max_length,
            shapes=request.checkpoint.word_shapes,
        )
    manifest = _write_manifest(dest, request, variant, quantization, {}, openvino)
    build_seconds = time.perf_counter() - tick + export_seconds
    tagger = OnnxTagger(dest, providers=providers_for(variant, cuda), threads=request.threads)
    if reference is None:
        on_step(f"running the PyTorch model on {len(sample.sentences)} sentences")
        reference = reference_run(request.checkpoint, sample, tagger, request.threads)
    on_step(f"verifying {variant} on {len(sample.sentences)} sentences")
    result = verify_variant(tagger, variant, sample, reference, allowed_drop=request.allowed_drop)
    result["export_seconds"] = round(build_seconds, 2)
    del tagger
    results = [result]
    if openvino is not None:
        on_step(f"verifying {variant} on OpenVINO on {len(sample.sentences)} sentences")
        on_openvino = OpenVinoTagger(dest, threads=request.threads)
        checked = verify_variant(on_openvino, variant, sample, reference, allowed_drop=request.allowed_drop)
        del on_openvino
        openvino = openvino.model_copy(update={"verification": checked})
        results.append(checked)
    # Only the verification changes: the files, their sums and the opset are those just written.
    _save_manifest(dest, manifest.model_copy(update={"verification": result, "openvino": openvino}))
    return results, reference


def _fingerprint(request: ExportRequest) -> str:
    fields = {
        "variants": list(request.variants),
        "name": request.bundle_name,
        "allowed_drop": request.allowed_drop,
        "int8_target": request.int8_target,
        "opset": request.opset,
        "openvino": request.openvino,
        "force": request.force,
    }
    return fingerprint(fields, request.checkpoint.path, [request.verify_on, request.calibrate_on])
