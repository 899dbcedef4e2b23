"""The onnxruntime tagger: one session over a verified bundle, words in, IOB2 tags out.

Everything that scores or serves an exported model on onnxruntime (the default runtime) goes through this
class (export's verification, ``nerd evaluate`` on a bundle, ``nerd label``, ``nerd serve``), so what
was measured is what runs; what it shares with the OpenVINO tagger is
:class:`nerd.tagging.bundle_tagger.BundleTagger`. Its PyTorch twin for training checkpoints is
:class:`nerd.tagging.torch_tagger.TorchTagger`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nerd.bundle_checks import verified_bundle
from nerd.bundle_reading import BundleContents
from nerd.errors import ModelBundleError
from nerd.model_bundle import MODEL_FILE
from nerd.tagging.bundle_tagger import BundleTagger, required_file
from nerd.tagging.encoding import Window, model_inputs

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
# onnxruntime's fused SkipLayerNormalization and BiasGelu CPU kernels were slower on the development
# machine than the Add + LayerNormalization and Add + Gelu they replace (CoNLL dev, shipped int8 model:
# model time 3.38 -> 3.03 s with the first one off); on CUDA the fusions pay and stay on.
SLOW_CPU_FUSIONS = ("SkipLayerNormFusion", "BiasGeluFusion")


class ProviderUnavailable(ModelBundleError):
    """The execution provider that was asked for is not the one onnxruntime can give (no silent fallback)."""


def default_threads() -> int:
    """The cores this process may run on (its affinity mask, not the machine's core count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class OnnxTagger(BundleTagger):
    """A bundle loaded for inference.

    ``providers`` lists onnxruntime execution providers in order of preference; a provider that was asked
    for and is not what the session got is an error, never a silent fallback to the CPU.

    ``spinning``: onnxruntime's worker threads spin while they wait for work. On idle cores that is a
    little faster (CoNLL dev: 2.90 against 3.04 s); when another process holds one of the two cores it
    is more than twice as slow (6.3-6.9 against 4.5 s). Off by default: a serving host is shared.
    """

    runtime = "onnxruntime"
    model_files = (MODEL_FILE,)

    def __init__(
        self,
        bundle: str | Path | BundleContents,
        *,
        providers: Sequence[str] = (CPU,),
        threads: int | None = None,
        spinning: bool = False,
    ) -> None:
        import onnxruntime

        # The model, tokenizer and config load from the bytes that were hashed, never from the paths
        # again: a file swapped after the check cannot be what runs.
        contents = bundle if isinstance(bundle, BundleContents) else verified_bundle(bundle)
        super().__init__(contents)
        if self.manifest.variant == "int8" and CUDA in providers:
            raise ModelBundleError("a dynamically quantised int8 model runs on the CPU only", path=self.path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        missing = [p for p in providers if p not in onnxruntime.get_available_providers()]
        if missing:
            raise ProviderUnavailable(f"onnxruntime here has no {', '.join(missing)}", path=self.path)
        disabled = list(SLOW_CPU_FUSIONS) if providers[0] == CPU else []
        try:
            self.session = onnxruntime.InferenceSession(
                required_file(contents, MODEL_FILE),
                options,
                providers=list(providers),
                disabled_optimizers=disabled,
            )
        except Exception as error:  # onnxruntime raises its own untyped errors for bad graphs
            raise ModelBundleError(f"onnxruntime cannot load the model: {error}", path=self.path) from None
        self.providers = self.session.get_providers()
        if self.providers[0] != providers[0]:
            raise ProviderUnavailable(f"asked for {providers[0]}, the session runs on {self.providers[0]}")
        for output in self.session.get_outputs():
            if output.name == "logits" and output.shape and isinstance(output.shape[-1], int):
                self.check_output_width(output.shape[-1])
        self.input_names = {node.name for node in self.session.get_inputs()}
        self.check_reads_shapes(self.input_names)
        contents.release(MODEL_FILE)  # onnxruntime holds its own copy

    @property
    def device(self) -> str:
        return self.providers[0]

    def logits(self, windows: Sequence[Window]) -> np.ndarray:
        """Float32 logits ``(windows, longest, labels)`` of one batch, padded to its longest window."""
        feed = model_inputs(windows, self.pad_id, self.input_names)
        tick = time.perf_counter()
        (output,) = self.session.run(["logits"], feed)
        self.session_seconds += time.perf_counter() - tick
        return output.astype(np.float32, copy=False)
