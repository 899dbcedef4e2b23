"""``nerd export``, ``nerd verify`` and ``nerd unpack``: ONNX bundles, their proofs, and carrying them."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from nerd.cli.console import console, error_console, exit_on_error
from nerd.errors import ConfigError

VARIANTS = ("fp32", "int8", "fp16")


class Int8Choice(StrEnum):
    auto = "auto"
    avx512_vnni = "avx512_vnni"
    avx512 = "avx512"
    avx2 = "avx2"
    arm64 = "arm64"


def parse_variants(text: str) -> list[str]:
    """``fp32,int8`` -> ``["fp32", "int8"]``, in the order given, each once.

    >>> parse_variants("int8, fp32,int8")
    ['int8', 'fp32']
    """
    chosen: list[str] = []
    for part in text.split(","):
        name = part.strip().lower()
        if name not in VARIANTS:
            raise ConfigError(
                f"--variants: unknown variant {part.strip()!r} (choose from {', '.join(VARIANTS)})"
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def export_cli(
    model_dir: Annotated[
        Path, typer.Argument(help="A trained token-classification directory (what nerd train writes).")
    ],
    variants: Annotated[
        str,
        typer.Option(
            help="Comma-separated: fp32 (reference), int8 (for the CPU: fused attention, int8 weights, "
            "fixed calibrated activation scales), fp16 (half precision for CUDA)."
        ),
    ] = "fp32,int8",
    verify_on: Annotated[
        Path | None,
        typer.Option(
            help="CoNLL file to verify on (PyTorch against each variant). Default: a built-in sample "
            "of 40 invented sentences.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    calibrate_on: Annotated[
        Path | None,
        typer.Option(
            help="CoNLL file whose sentences (at most 512, evenly spread) fix int8's activation scales. "
            "Default: the --verify-on sentences (or the built-in sample).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where onnx-<variant>/ directories go. Default: MODEL_DIR.")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="The bundle's name, shown by nerd serve's page and /v1/model and used for the --pack "
            "archive. Default: the name of the --out directory."
        ),
    ] = None,
    pack: Annotated[
        bool,
        typer.Option(
            "--pack", help="Also write OUT/<name>-onnx.tar.gz and its .sha256 to carry into a closed network."
        ),
    ] = False,
    allow_degradation: Annotated[
        float,
        typer.Option(
            help="Micro-F1 points (0-100) a variant may lose against the PyTorch model on the "
            "verification data before the export fails.",
            min=0.0,
            max=100.0,
        ),
    ] = 0.5,
    int8_target: Annotated[
        Int8Choice,
        typer.Option(
            help="CPU instruction set the int8 variant is meant for, recorded in bundle.json; the graph "
            "is the same for every target, as optimum's configurations were (without VNNI, watch the "
            "verification's F1 drop). auto: this machine's."
        ),
    ] = Int8Choice.auto,
    opset: Annotated[int | None, typer.Option(help="ONNX opset. Default: optimum's for the model.")] = None,
    openvino: Annotated[
        bool,
        typer.Option(
            "--openvino",
            help="Also put an OpenVINO model in the int8 bundle: the fp32 graph quantised by NNCF on the "
            "same calibration sentences, verified on the same sample and threshold; nerd serve, evaluate, "
            "bench and label run it with --runtime openvino. Needs nerd[openvino-export].",
        ),
    ] = False,
    max_length: Annotated[
        int | None,
        typer.Option(
            help="Sub-tokens per window at inference. Default: the training card's, else 128.", min=8
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(help="CPU threads for verification. Default: the cores this process may use."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing onnx-<variant>/ bundles.")] = False,
) -> None:
    """Export a trained model to ONNX bundles, each verified against PyTorch before it is written."""
    with exit_on_error():
        from nerd.bundle_archive import pack as pack_bundles
        from nerd.export.bundles import (
            ExportRequest,
            VerificationFailed,
            bundle_dir,
            export_bundles,
        )
        from nerd.export.onnx_variants import detect_int8_target
        from nerd.tagging.checkpoint import load_checkpoint
        from nerd.tagging.onnx_tagger import default_threads

        chosen = parse_variants(variants)
        checkpoint = load_checkpoint(model_dir, max_length=max_length)
        target = detect_int8_target() if int8_target is Int8Choice.auto else int8_target.value
        out_dir = out or model_dir
        request = ExportRequest(
            checkpoint=checkpoint,
            name=name,
            variants=chosen,  # type: ignore[arg-type]
            out_dir=out_dir,
            verify_on=verify_on,
            calibrate_on=calibrate_on,
            allowed_drop=allow_degradation,
            int8_target=target,  # type: ignore[arg-type]
            opset=opset,
            openvino=openvino,
            force=force,
            threads=threads or default_threads(),
        )
        try:
            with error_console.status("exporting") as status:
                results = export_bundles(request, on_step=lambda message: status.update(message))
        except VerificationFailed as failure:
            show_results(failure.results)
            raise
        if results and all(result.get("finished_earlier") for result in results):
            console.print("already exported: the bundles below are this export's, verified and unchanged")
        show_results(results)
        for variant in chosen:
            console.print(f"{variant}: {bundle_dir(out_dir, variant)}")
        if pack:
            archive = out_dir / f"{request.bundle_name}-onnx.tar.gz"
            digest = pack_bundles([bundle_dir(out_dir, v) for v in chosen], archive)
            console.print(f"packed: {archive} (sha256 {digest})")


def show_results(results: list[dict[str, Any]]) -> None:
    """One row per variant: size, F1 against gold for PyTorch and the variant, agreement, speed."""
    if not results:
        return
    first = results[0]
    table = Table(
        title=f"Verification on {first['sample']} ({first['sentences']} sentences)",
        caption="F1: entity micro F1 against the file's labels; drop: points lost against PyTorch; agree: "
        "F1 against PyTorch's predictions; max |Δ|: largest logit difference; sent/s: PyTorch→ONNX.",
    )
    for column in ("variant", "MB", "F1 torch", "F1", "drop", "agree", "max |Δ|", "sent/s"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    for result in results:
        sentences = result["sentences"]
        table.add_row(
            f"{result['variant']} ({result['provider'].removesuffix('ExecutionProvider')})",
            f"{result['model_bytes'] / 1e6:.1f}",
            f"{result['f1_pytorch']:.4f}",
            f"{result['f1']:.4f}",
            f"{result['f1_drop_points']:+.2f}",
            f"{result['agreement_f1']:.4f}",
            f"{result['max_abs_logit_difference']:.0e}",
            f"{_rate(sentences, result['seconds_pytorch'])}→{_rate(sentences, result['seconds'])}",
        )
    console.print(table)


def _rate(count: int, seconds: float) -> str:
    return f"{count / max(seconds, 1e-9):.0f}"


def verify_cli(
    bundles: Annotated[list[Path], typer.Argument(help="Bundle directories (onnx-<variant>/) to re-check.")],
    public_key: Annotated[
        Path | None,
        typer.Option(
            help="Also require a bundle.sig that verifies with this Ed25519 public key (PEM): see nerd sign.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
) -> None:
    """Re-check each bundle as nerd serve checks it before loading: every file against the sha256 in its
    bundle.json, the files it must list, its label list against the model's config and, with
    --public-key, its signature; every problem is printed, exit 1 on any."""
    with exit_on_error():
        from nerd.bundle_checks import bundle_problems
        from nerd.bundle_reading import read_bundle
        from nerd.bundle_signature import fingerprint, load_key
        from nerd.errors import ModelBundleError

        failed = 0
        for bundle in bundles:
            try:
                # One read: the checksums, the labels and the signature are checked on the same bytes.
                contents = read_bundle(bundle, keep_bytes=False)
            except ModelBundleError as error:
                error_console.print(f"[red]FAIL[/] {escape(str(error))}", highlight=False, soft_wrap=True)
                failed += 1
                continue
            problems = bundle_problems(contents, public_key)
            for problem in problems:
                error_console.print(
                    f"[red]FAIL[/] {escape(f'{bundle}: {problem}')}", highlight=False, soft_wrap=True
                )
            if problems:
                failed += 1
                continue
            signed = (
                f"; signed by key {fingerprint(load_key(public_key, private=False))[:16]}"
                if public_key
                else ""
            )
            console.print(
                f"OK {bundle}: {len(contents.manifest.files)} files match bundle.json "
                f"({contents.manifest.variant}); bundle sha256 {contents.digest}{signed}",
                markup=False,
            )
        if failed:
            raise typer.Exit(code=1)


def unpack_cli(
    archive: Annotated[Path, typer.Argument(help="A .tar.gz written by nerd export --pack.", dir_okay=False)],
    into: Annotated[Path, typer.Option(help="Directory the bundles go into.")] = Path("models"),
    force: Annotated[
        bool, typer.Option("--force", help="Replace bundles of the same name in --into.")
    ] = False,
) -> None:
    """Check an archive's sha256, unpack it safely and verify every bundle in it."""
    with exit_on_error():
        from nerd.bundle_archive import unpack

        for bundle in unpack(archive, into, force=force):
            console.print(f"OK {bundle}")
