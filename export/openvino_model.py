"""The OpenVINO model of an int8 bundle (``nerd export --openvino``): the fp32 ONNX quantised statically
by NNCF on the export's calibration sentences, saved as OpenVINO IR beside the ONNX model.

NNCF's transformer preset (``ModelType.TRANSFORMER``: SmoothQuant, then fast bias correction) fixes every
activation scale from the calibration windows, cut as the tagger cuts them, so that a sentence's answer
does not depend on its batch neighbours. The word-embedding table, which that quantisation leaves in
float, is compressed to int8 (``nncf.compress_weights``): the IR then weighs about what the ONNX int8
model weighs (23.5 against 22.9 MB for MiniLM-L6).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

from nerd.errors import ConfigError
from nerd.model_bundle import MODEL_FILE, OpenVinoModel
from nerd.tagging.encoding import WordEncoder, model_inputs, pad_token_id

CALIBRATION_BATCH = 32


def check_openvino_export() -> None:
    """Refuse ``--openvino`` before minutes of export when its libraries are missing.

    Raises:
        ConfigError: OpenVINO or NNCF is not installed.
    """
    # Found, not imported: NNCF must first be imported with its telemetry off (build_openvino_model).
    missing = [module for module in ("openvino", "nncf") if importlib.util.find_spec(module) is None]
    if missing:
        raise ConfigError(f"--openvino needs {' and '.join(missing)} (pip install 'nerd[openvino-export]')")


def build_openvino_model(
    fp32_dir: Path,
    dest: Path,
    *,
    calibration: Sequence[Sequence[str]],
    max_length: int,
    shapes: bool,
) -> OpenVinoModel:
    """Quantise ``fp32_dir/model.onnx`` with NNCF and save it as IR in ``dest``; verification comes later."""
    # nerd sends nothing out of the network it runs in: NNCF reports usage to Google Analytics unless
    # told otherwise (openvino-telemetry, on by default), and NNCF_CI, read once when nncf is first
    # imported, is the switch it offers a program (the other is a consent file in the user's home).
    os.environ.setdefault("NNCF_CI", "1")
    import nncf
    import openvino

    model = openvino.Core().read_model(str(fp32_dir / MODEL_FILE))
    names = {port.any_name for port in model.inputs}
    encoder = WordEncoder(fp32_dir / "tokenizer.json", max_length, shapes=shapes)
    pad_id = pad_token_id(fp32_dir / "config.json", encoder)
    windows = encoder.encode(calibration)
    batches = [windows[i : i + CALIBRATION_BATCH] for i in range(0, len(windows), CALIBRATION_BATCH)]
    dataset = nncf.Dataset(batches, lambda batch: model_inputs(batch, pad_id, names))
    quantised = nncf.quantize(model, dataset, model_type=nncf.ModelType.TRANSFORMER, subset_size=len(batches))
    compressed = nncf.compress_weights(quantised, mode=nncf.CompressWeightsMode.INT8_ASYM)
    recorded = OpenVinoModel(
        quantization={
            "tool": f"nncf {nncf.__version__}",
            "preset": "ModelType.TRANSFORMER",
            "weights": "int8, per channel",
            "activations": f"int8, scales fixed on {len(windows)} calibration windows",
            "word_embeddings": "int8 (nncf.compress_weights INT8_ASYM)",
        },
        verification={},
    )
    openvino.save_model(compressed, str(dest / recorded.model), compress_to_fp16=False)
    return recorded
