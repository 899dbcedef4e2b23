"""The ONNX variants, built with optimum's exporter and optimizer and onnxruntime's quantizer.

``fp32`` is optimum's token-classification export with dynamic batch and sequence axes. ``int8`` is
built for the CPU: optimum's optimizer fuses attention and layer norm (but not the skip-layer-norm,
bias-GELU and embedding fusions, whose CPU kernels were slower here or would hide the embedding table),
onnxruntime quantises the weights to int8 per channel, the word-embedding table is stored in int8 with
a scale per row, and every activation gets a fixed, calibrated scale (:mod:`nerd.export.activation_scales`)
so that a sentence's answer does not depend on what shares its batch. ``fp16`` goes through the
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
from nerd.model_bundle import MODEL_FILE
from nerd.tagging.checkpoint import Checkpoint

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


# Fusions whose onnxruntime CPU kernels were slower here than the plain operators they replace, or
# (the embedding layer norm) that would fold the word-embedding table out of reach of quantize_rows.
CPU_FUSIONS_OFF = {
    "disable_skip_layer_norm_fusion": True,
    "disable_bias_skip_layer_norm_fusion": True,
    "disable_bias_gelu_fusion": True,
    "disable_embed_layer_norm_fusion": True,
}


def fuse_for_cpu(fp32_dir: Path, dest: Path) -> Path:
    """optimum's transformer optimizer on ``fp32_dir/model.onnx`` (attention and layer norm fused, the
    slower fusions off), written as ``dest/model.onnx``."""
    from optimum.onnxruntime import ORTOptimizer
    from optimum.onnxruntime.configuration import OptimizationConfig

    _quiet_onnxruntime_tools()
    optimizer = ORTOptimizer.from_pretrained(fp32_dir, file_names=[MODEL_FILE])
    # Level 0: only the Python fusions chosen here; onnxruntime's own C++ level would fuse skip layer
    # norms back in.
    optimizer.optimize(OptimizationConfig(optimization_level=0, **CPU_FUSIONS_OFF), dest)
    _rename_model(dest / "model_optimized.onnx", dest, "model_optimized.onnx")
    return dest / MODEL_FILE


def quantize_int8(
    fp32_dir: Path,
    dest: Path,
    target: Int8Target,
    *,
    calibration: Sequence[Sequence[str]],
    max_length: int,
    shapes: bool = False,
    also_float: Sequence[str] = (),
    embedding_rows: bool = True,
) -> dict[str, Any]:
    """int8 for the CPU from ``fp32_dir/model.onnx`` into ``dest/model.onnx``; returns its configuration.

    The graph is fused (:func:`fuse_for_cpu`); weight products are quantised per output channel
    (products of two activations, if any are left unfused, stay in float: quantising both sides cost
    0.58 F1 points on the CoNLL dev set with a MiniLM, against 0.31); the word-embedding table is int8
    with one scale per row (:func:`quantize_rows`: the int8 loss on dev of a MiniLM trained on all of
    CoNLL went from 0.38 to 0.14 points at the same size); the activation scales are fixed from the
    ``calibration`` sentences, cut into windows of ``max_length`` sub-tokens as the engine cuts them
    (:func:`~nerd.export.activation_scales.freeze_activation_scales`).
    ``also_float`` names more nodes to keep in float; ``embedding_rows`` False leaves the table to
    onnxruntime (to measure the difference).

    onnxruntime's ``quantize_dynamic`` is called directly: optimum's ORTQuantizer fails on a fused graph
    without a symbolic shape inference first.
    """
    import tempfile

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from nerd.export.activation_scales import calibration_feeds, freeze_activation_scales, model_input_names
    from nerd.tagging.encoding import WordEncoder

    with tempfile.TemporaryDirectory(prefix=".fused-", dir=dest.parent) as work:
        fused = fuse_for_cpu(fp32_dir, Path(work))
        kept_float = activation_products(fused) + [n for n in also_float if n]
        per_row = word_embedding_gathers(fused) if embedding_rows else []
        quantize_dynamic(
            fused,
            dest / MODEL_FILE,
            per_channel=True,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=kept_float + per_row,
            # A fused graph has outputs of contrib operators whose type the quantiser cannot infer.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT, "MatMulConstBOnly": True},
        )
    quantize_rows(dest / MODEL_FILE, per_row)
    encoder = WordEncoder(fp32_dir / "tokenizer.json", max_length, shapes=shapes)
    feeds = calibration_feeds(encoder, calibration, model_input_names(dest / MODEL_FILE))
    scales = freeze_activation_scales(dest / MODEL_FILE, feeds)
    return {
        "target": target,
        "mode": "static activation scales",
        "weights": "int8 symmetric, per channel",
        "activations": f"uint8, scales fixed on {len(feeds)} calibration windows",
        "fusions": "attention, layer norm, GELU (optimum level 0; skip layer norm, bias GELU, embedding off)",
        "kept_in_float": kept_float,
        "embeddings_int8_per_row": per_row,
        "fixed_activation_scales": scales,
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
