"""The ONNX variants, built with optimum's exporter, optimizer and quantizer.

``fp32`` is optimum's token-classification export with dynamic batch and sequence axes. ``int8`` is
onnxruntime's dynamic quantisation of it (weights int8 per channel, activations quantised at run time),
with the instruction-set configuration of the CPU it will run on. ``fp16`` goes through onnxruntime's
transformer optimizer (fused attention, layer norm and GELU) and casts to half precision for CUDA.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any, Literal

from nerd.errors import InputError
from nerd.export.checkpoint import Checkpoint
from nerd.model_bundle import MODEL_FILE

Int8Target = Literal["avx512_vnni", "avx512", "avx2", "arm64"]
INT8_TARGETS: tuple[Int8Target, ...] = ("avx512_vnni", "avx512", "avx2", "arm64")


def detect_int8_target(cpuinfo: str | None = None, machine: str | None = None) -> Int8Target:
    """The int8 configuration that suits this CPU: the best instruction set its flags advertise.

    >>> detect_int8_target("flags : fpu avx2 avx512f avx512_vnni", "x86_64")
    'avx512_vnni'
    >>> detect_int8_target("flags : fpu sse4_2 avx2", "x86_64")
    'avx2'
    >>> detect_int8_target("", "aarch64")
    'arm64'
    """
    machine = machine or os.uname().machine
    if machine in {"aarch64", "arm64"}:
        return "arm64"
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    flags = set(cpuinfo.split())
    if "avx512_vnni" in flags or "avx512vnni" in flags:
        return "avx512_vnni"
    if "avx512f" in flags:
        return "avx512"
    return "avx2"


def _quiet_onnxruntime_tools() -> None:
    # The transformer optimizer logs "There is no gpu" at ERROR level while converting for CUDA on a
    # machine without one; the conversion itself is fine, so that line would only alarm people.
    logging.getLogger("onnxruntime.transformers.optimizer").setLevel(logging.CRITICAL)


def export_fp32(checkpoint: Checkpoint, dest: Path, *, opset: int | None = None) -> None:
    """optimum's ONNX export of the checkpoint into ``dest`` (``model.onnx``, config, tokenizer files)."""
    from optimum.exporters.onnx import main_export

    try:
        main_export(
            str(checkpoint.path),
            dest,
            task="token-classification",
            opset=opset,
            device="cpu",
            local_files_only=True,
            # The export is verified on real sentences against the PyTorch model right after.
            do_validation=False,
        )
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        raise InputError(f"optimum cannot export this checkpoint: {error}", path=checkpoint.path) from None
    if not (dest / MODEL_FILE).is_file():
        raise InputError("optimum wrote no model.onnx", path=checkpoint.path)


def activation_products(model: Path) -> list[str]:
    """MatMul nodes that multiply two activations (attention scores and their weighted sum), by name."""
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    constants = {tensor.name for tensor in graph.initializer}
    constants.update(output for node in graph.node if node.op_type == "Constant" for output in node.output)
    return [
        node.name
        for node in graph.node
        if node.op_type == "MatMul" and not any(name in constants for name in node.input)
    ]


def quantize_int8(fp32_dir: Path, dest: Path, target: Int8Target) -> dict[str, Any]:
    """Dynamic int8 quantisation of ``fp32_dir/model.onnx`` into ``dest``; returns its configuration.

    Weight products and the embedding tables are quantised; products of two activations are not.
    Quantising both sides of those at run time cost 0.58 F1 points on the CoNLL dev set with a MiniLM
    model, against 0.31 when they stay in float, at the same size (README, "nerd export").
    """
    from optimum.onnxruntime import ORTQuantizer
    from optimum.onnxruntime.configuration import AutoQuantizationConfig

    kept_float = activation_products(fp32_dir / MODEL_FILE)
    config = getattr(AutoQuantizationConfig, target)(
        is_static=False, per_channel=True, nodes_to_exclude=kept_float
    )
    quantizer = ORTQuantizer.from_pretrained(fp32_dir, file_name=MODEL_FILE)
    quantizer.quantize(config, dest, file_suffix="quantized")
    _rename_model(dest / "model_quantized.onnx", dest, "model_quantized.onnx")
    return {
        "target": target,
        "mode": "dynamic",
        "weights": "int8 symmetric, per channel",
        "activations": "uint8, ranges computed at run time",
        "operators": sorted(config.operators_to_quantize),
        "kept_in_float": kept_float,
    }


def convert_fp16(fp32_dir: Path, dest: Path) -> dict[str, Any]:
    """Transformer graph fusions and a half-precision cast for the CUDA provider, into ``dest``."""
    from optimum.onnxruntime import ORTOptimizer
    from optimum.onnxruntime.configuration import OptimizationConfig

    _quiet_onnxruntime_tools()
    optimizer = ORTOptimizer.from_pretrained(fp32_dir, file_names=[MODEL_FILE])
    optimizer.optimize(OptimizationConfig(optimization_level=2, fp16=True, optimize_for_gpu=True), dest)
    _rename_model(dest / "model_optimized.onnx", dest, "model_optimized.onnx")
    return {"optimization_level": 2, "fp16": True, "optimized_for": "CUDAExecutionProvider"}


def _rename_model(written: Path, dest: Path, expected: str) -> None:
    if not written.is_file():
        raise InputError(f"the optimum step wrote no {expected}", path=dest)
    os.replace(written, dest / MODEL_FILE)


def copy_support_files(source: Path, dest: Path) -> None:
    """Tokenizer and config files the exporter put beside the fp32 model, for a derived variant."""
    for path in source.iterdir():
        if path.is_file() and path.suffix != ".onnx" and not (dest / path.name).exists():
            shutil.copy2(path, dest / path.name)
