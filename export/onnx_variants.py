"""The ONNX variants, built with optimum's exporter, optimizer and quantizer.

``fp32`` is optimum's token-classification export with dynamic batch and sequence axes. ``int8`` is
onnxruntime's dynamic quantisation of it (weights int8 per channel, activations quantised at run time),
with the instruction-set configuration of the CPU it will run on, and the word-embedding table stored
in int8 with a scale per row. ``fp16`` goes through onnxruntime's
transformer optimizer (fused attention, layer norm and GELU) and casts to half precision for CUDA.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
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


def quantize_int8(
    fp32_dir: Path,
    dest: Path,
    target: Int8Target,
    *,
    also_float: Sequence[str] = (),
    embedding_rows: bool = True,
) -> dict[str, Any]:
    """Dynamic int8 quantisation of ``fp32_dir/model.onnx`` into ``dest``; returns its configuration.

    Weight products are quantised per output channel; products of two activations are not (quantising
    both sides at run time cost 0.58 F1 points on the CoNLL dev set with a MiniLM model, against 0.31
    when they stay in float, at the same size). The word-embedding table is int8 with one scale per
    row (:func:`quantize_rows`) rather than onnxruntime's one scale for the table: for a MiniLM trained
    on all of CoNLL train that took the int8 loss on dev from 0.38 to 0.14 points at the same size
    (``experiments/int8_sensitivity.py``). ``also_float`` names more nodes to keep in float;
    ``embedding_rows`` False leaves the table to onnxruntime (to measure the difference).
    """
    from optimum.onnxruntime import ORTQuantizer
    from optimum.onnxruntime.configuration import AutoQuantizationConfig

    kept_float = activation_products(fp32_dir / MODEL_FILE) + [n for n in also_float if n]
    per_row = word_embedding_gathers(fp32_dir / MODEL_FILE) if embedding_rows else []
    config = getattr(AutoQuantizationConfig, target)(
        is_static=False, per_channel=True, nodes_to_exclude=kept_float + per_row
    )
    quantizer = ORTQuantizer.from_pretrained(fp32_dir, file_name=MODEL_FILE)
    quantizer.quantize(config, dest, file_suffix="quantized")
    _rename_model(dest / "model_quantized.onnx", dest, "model_quantized.onnx")
    quantize_rows(dest / MODEL_FILE, per_row)
    return {
        "target": target,
        "mode": "dynamic",
        "weights": "int8 symmetric, per channel",
        "activations": "uint8, ranges computed at run time",
        "operators": sorted(config.operators_to_quantize),
        "kept_in_float": kept_float,
        "embeddings_int8_per_row": per_row,
    }


def word_embedding_gathers(model: Path) -> list[str]:
    """Gather nodes that look up a token-embedding table by ``input_ids``, by name."""
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    tables = {tensor.name for tensor in graph.initializer if len(tensor.dims) == 2}
    return [
        node.name
        for node in graph.node
        if node.op_type == "Gather" and node.input[0] in tables and node.input[1] == "input_ids"
    ]


def quantize_rows(model: Path, gather_names: Sequence[str]) -> int:
    """Store the tables these Gather nodes read as int8 with one scale per row; returns tables changed.

    onnxruntime quantises an embedding table with one scale for all of it, set by its largest value;
    per row, each token keeps its own range (a MiniLM trained on all of CoNLL lost 0.14 dev points to
    int8 instead of 0.38). Only the looked-up rows are converted back to float, so the run-time cost is a few
    multiplications per token and the table stays a quarter of its float size.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    proto = onnx.load(str(model))
    graph = proto.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    wanted = set(gather_names)
    changed = 0
    for node in [n for n in graph.node if n.name in wanted]:
        table = initializers.get(node.input[0])
        if node.op_type != "Gather" or table is None:
            continue
        values = numpy_helper.to_array(table).astype(np.float32)
        scale = np.abs(values).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        quantised = np.clip(np.rint(values / scale[:, None]), -127, 127).astype(np.int8)
        base = node.input[0]
        graph.initializer.remove(table)
        graph.initializer.extend(
            [
                numpy_helper.from_array(quantised, f"{base}_int8_rows"),
                numpy_helper.from_array(scale.astype(np.float32), f"{base}_row_scale"),
                numpy_helper.from_array(np.array([-1], dtype=np.int64), f"{base}_last_axis"),
            ]
        )
        ids, output = node.input[1], node.output[0]
        replacement = [
            helper.make_node(
                "Gather", [f"{base}_int8_rows", ids], [f"{base}_rows_int8"], name=f"{node.name}_int8"
            ),
            helper.make_node(
                "Cast", [f"{base}_rows_int8"], [f"{base}_rows_float"], to=onnx.TensorProto.FLOAT
            ),
            helper.make_node(
                "Gather", [f"{base}_row_scale", ids], [f"{base}_scales"], name=f"{node.name}_scale"
            ),
            helper.make_node("Unsqueeze", [f"{base}_scales", f"{base}_last_axis"], [f"{base}_scales_column"]),
            helper.make_node("Mul", [f"{base}_rows_float", f"{base}_scales_column"], [output]),
        ]
        position = list(graph.node).index(node)
        graph.node.remove(node)
        for offset, new in enumerate(replacement):
            graph.node.insert(position + offset, new)
        changed += 1
    if changed:
        onnx.checker.check_model(proto)
        onnx.save(proto, str(model))
    return changed


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
