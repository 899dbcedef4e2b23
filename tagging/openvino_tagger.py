"""The OpenVINO tagger: a bundle's OpenVINO model (``nerd export --openvino``), words in, IOB2 tags out.

OpenVINO runs the model NNCF quantised statically (int8 activations with scales fixed at export, so a
sentence's tags never depend on its batch neighbours) through oneDNN's int8 kernels. One compiled model
per input shape: the rows of a call as they come and its length padded up to a multiple of
``WIDTH_STEP`` sub-tokens, compiled the first time that shape is met (about 0.8 s) and kept, the
``max_shapes`` most recently used at most. On a Xeon with AVX-512 VNNI, static shapes made CoNLL dev
1.34x faster than onnxruntime and one sentence faster too, where dynamic shapes made one sentence slower;
on an AVX2-only EPYC the same runtime was 2.2x slower than onnxruntime, and each compiled shape held
about 90 MB (docs/speed.md).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nerd.bundle_checks import verified_bundle
from nerd.bundle_reading import BundleContents
from nerd.errors import ModelBundleError
from nerd.model_bundle import MODEL_FILE
from nerd.tagging.bundle_tagger import BundleTagger, required_file
from nerd.tagging.encoding import Window, model_inputs
from nerd.tagging.onnx_tagger import ProviderUnavailable, default_threads

WIDTH_STEP = 8
MAX_SHAPES = 24
# f32: the float parts of the graph as the export verified them (without the hint OpenVINO computes them
# in bf16 on CPUs that have it). LATENCY: one stream, every thread on the one call.
COMPILE_CONFIG = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}


def openvino_installed() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


class OpenVinoTagger(BundleTagger):
    """A bundle's OpenVINO model, on the CPU."""

    runtime = "openvino"

    def __init__(
        self, bundle: str | Path | BundleContents, *, threads: int | None = None, max_shapes: int = MAX_SHAPES
    ) -> None:
        try:
            import openvino
        except ImportError:
            raise ProviderUnavailable(
                "OpenVINO is not installed here (pip install 'nerd[openvino]')", path=str(bundle)
            ) from None
        contents = bundle if isinstance(bundle, BundleContents) else verified_bundle(bundle)
        super().__init__(contents)
        recorded = self.manifest.openvino
        if recorded is None:
            raise ModelBundleError(
                "the bundle has no OpenVINO model (nerd export --openvino writes one)",
                path=self.path,
                field="openvino",
            )
        self.model_files = (recorded.model, recorded.weights)
        # The model loads from the bytes that were hashed, as onnxruntime's does.
        self._weights = np.frombuffer(required_file(contents, recorded.weights), dtype=np.uint8)
        self.core = openvino.Core()
        try:
            self.model = self.core.read_model(
                model=required_file(contents, recorded.model).decode("utf-8"),
                weights=openvino.Tensor(self._weights),
            )
        except (RuntimeError, UnicodeDecodeError) as error:
            raise ModelBundleError(f"OpenVINO cannot read the model: {error}", path=self.path) from None
        contents.release(recorded.model)
        contents.release(MODEL_FILE)  # the ONNX model is onnxruntime's, not needed here
        self.config: dict[str, Any] = dict(COMPILE_CONFIG)
        self.config["INFERENCE_NUM_THREADS"] = threads or default_threads()
        self.input_names = {port.any_name for port in self.model.inputs}
        self.check_reads_shapes(self.input_names)
        width = self.model.outputs[0].get_partial_shape()[-1]
        self.check_output_width(width.get_length() if width.is_static else None)
        # Most recently used last; beyond max_shapes the oldest is dropped (and compiled again if met).
        self._compiled: OrderedDict[tuple[int, int], tuple[Any, Any]] = OrderedDict()
        self.max_shapes = max_shapes
        self._compiling = threading.Lock()
        self.compile_seconds = 0.0  # summed over the shapes compiled so far

    @property
    def device(self) -> str:
        return "OpenVINO CPU"

    @property
    def shapes_compiled(self) -> int:
        return len(self._compiled)

    def _request(self, rows: int, width: int) -> tuple[Any, Any]:
        """The compiled model and inference request for one input shape, compiled when first needed."""
        key = (rows, width)
        with self._compiling:
            found = self._compiled.get(key)
            if found is not None:
                self._compiled.move_to_end(key)
                return found
            tick = time.perf_counter()
            shaped = self.model.clone()
            shaped.reshape({port.any_name: [rows, width] for port in shaped.inputs})
            compiled = self.core.compile_model(shaped, "CPU", self.config)
            self._compiled[key] = (compiled, compiled.create_infer_request())
            while len(self._compiled) > self.max_shapes:
                self._compiled.popitem(last=False)
            self.compile_seconds += time.perf_counter() - tick
            return self._compiled[key]

    def logits(self, windows: Sequence[Window]) -> np.ndarray:
        """Float32 logits ``(windows, longest, labels)`` of one batch, padded to its longest window."""
        longest = max(len(window) for window in windows)
        width = min(-(-longest // WIDTH_STEP) * WIDTH_STEP, max(self.manifest.max_length, longest))
        compiled, request = self._request(len(windows), width)
        feed = model_inputs(windows, self.pad_id, self.input_names, width)
        tick = time.perf_counter()
        result = request.infer(feed)
        self.session_seconds += time.perf_counter() - tick
        return np.asarray(result[compiled.outputs[0]], dtype=np.float32)[:, :longest]
