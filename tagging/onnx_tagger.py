"""The onnxruntime tagger: one session over a verified bundle, words in, IOB2 tags out.

Everything that scores or serves an exported model goes through this class (export's verification,
``nerd evaluate`` on a bundle, ``nerd label``, ``nerd serve``), so what was measured is what runs. Its
PyTorch twin for training checkpoints is :class:`nerd.tagging.torch_tagger.TorchTagger`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Sequence
from pathlib import Path

import numpy as np

from nerd.decoding import DEFAULT_DECODING, Decoding, decode_indices, log_of
from nerd.errors import ModelBundleError
from nerd.inference_batches import inference_batches
from nerd.model_bundle import MODEL_FILE, BundleContents, Manifest, verified_bundle
from nerd.spans import repair_iob2
from nerd.tagging.encoding import Window, WordEncoder, model_inputs, pad_token_id, shapes_read_by
from nerd.tagging.reading import Aggregation, WordPredictions, aggregate
from nerd.tagging.window_tagger import WindowTagger
from nerd.word_scores import softmax

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


class OnnxTagger(WindowTagger):
    """A bundle loaded for inference.

    ``providers`` lists onnxruntime execution providers in order of preference; a provider that was asked
    for and is not what the session got is an error, never a silent fallback to the CPU.

    ``spinning``: onnxruntime's worker threads spin while they wait for work. On idle cores that is a
    little faster (CoNLL dev: 2.90 against 3.04 s); when another process holds one of the two cores it
    is more than twice as slow (6.3-6.9 against 4.5 s). Off by default: a serving host is shared.
    """

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
        self.path = contents.directory
        self.manifest: Manifest = contents.manifest
        self.bundle_sha256 = contents.digest
        self.training_card = (
            contents.text(self.manifest.training_card) if self.manifest.training_card else None
        )
        if self.manifest.variant == "int8" and CUDA in providers:
            raise ModelBundleError("a dynamically quantised int8 model runs on the CPU only", path=self.path)
        self.labels = list(self.manifest.labels)
        self.encoder = WordEncoder(
            _required(contents, "tokenizer.json"),
            self.manifest.max_length,
            shapes=shapes_read_by(self.manifest.word_shapes, self.path),
        )
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
                _required(contents, MODEL_FILE),
                options,
                providers=list(providers),
                disabled_optimizers=disabled,
            )
        except Exception as error:  # onnxruntime raises its own untyped errors for bad graphs
            raise ModelBundleError(f"onnxruntime cannot load the model: {error}", path=self.path) from None
        self.providers = self.session.get_providers()
        if self.providers[0] != providers[0]:
            raise ProviderUnavailable(f"asked for {providers[0]}, the session runs on {self.providers[0]}")
        self._check_output_width()
        self.input_names = {node.name for node in self.session.get_inputs()}
        if self.encoder.shapes and "token_type_ids" not in self.input_names:
            raise ModelBundleError(
                "bundle.json lists word shapes, the model has no token_type_ids input to read them",
                path=self.path,
                field="word_shapes",
            )
        self.session_seconds = 0.0  # time inside onnxruntime, summed over calls (for benchmarks)
        self.pad_id = pad_token_id(contents.files.get("config.json"), self.encoder)
        contents.release(MODEL_FILE)  # onnxruntime holds its own copy

    def _check_output_width(self) -> None:
        """A model whose logits are not one per label of the manifest would index labels wrongly."""
        for output in self.session.get_outputs():
            width = output.shape[-1] if output.name == "logits" and output.shape else None
            if isinstance(width, int) and width != len(self.labels):
                raise ModelBundleError(
                    f"the model scores {width} labels, bundle.json lists {len(self.labels)}",
                    path=self.path,
                    field="labels",
                )

    def logits(self, windows: Sequence[Window]) -> np.ndarray:
        """Float32 logits ``(windows, longest, labels)`` of one batch, padded to its longest window."""
        feed = model_inputs(windows, self.pad_id, self.input_names)
        tick = time.perf_counter()
        (output,) = self.session.run(["logits"], feed)
        self.session_seconds += time.perf_counter() - tick
        return output.astype(np.float32, copy=False)

    def analyse(
        self,
        sentences: Sequence[Sequence[str]],
        *,
        aggregation: Aggregation = "first",
        batch_size: int = 64,
        max_tokens: int | None = None,
        stride: int = 0,
        decoding: Decoding = DEFAULT_DECODING,
    ) -> list[WordPredictions]:
        """Labels, per-word probabilities and truncation of every sentence (what the service answers).

        ``max_tokens`` caps a model call's padded size as well as its rows (:func:`inference_batches`).
        """
        steps = self.analyse_steps(
            sentences,
            aggregation=aggregation,
            batch_size=batch_size,
            max_tokens=max_tokens,
            stride=stride,
            decoding=decoding,
        )
        while True:
            try:
                next(steps)
            except StopIteration as finished:
                return finished.value

    def analyse_steps(
        self,
        sentences: Sequence[Sequence[str]],
        *,
        aggregation: Aggregation = "first",
        batch_size: int = 64,
        max_tokens: int | None = None,
        stride: int = 0,
        decoding: Decoding = DEFAULT_DECODING,
    ) -> Generator[None, None, list[WordPredictions]]:
        """:meth:`analyse` one model call at a time: yields after each call and returns the predictions,
        so that a scheduler can run other work between the calls of a long text."""
        windows = self.encoder.encode(sentences, stride=stride)
        probabilities = [np.zeros((len(words), len(self.labels)), np.float32) for words in sentences]
        truncated = [False] * len(sentences)
        suffix = len(self.encoder.suffix)
        for batch in inference_batches([len(w) for w in windows], batch_size, max_tokens):
            chosen = [windows[i] for i in batch]
            scores = softmax(self.logits(chosen))
            for window, rows in zip(chosen, scores, strict=True):
                truncated[window.sentence] |= window.truncated
                target = probabilities[window.sentence]
                for offset in range(len(window.word_starts)):
                    word = window.first_word + offset
                    if window.owned[0] <= word < window.owned[1]:
                        target[word] = aggregate(rows[window.word_positions(offset, suffix)], aggregation)
            yield
        chosen = decode_indices([log_of(sentence) for sentence in probabilities], self.labels, decoding)
        results = []
        for sentence_probabilities, best, was_truncated in zip(probabilities, chosen, truncated, strict=True):
            tags = repair_iob2([self.labels[int(i)] for i in best])
            chosen_probability = sentence_probabilities[np.arange(len(best)), best]
            results.append(WordPredictions(tags, [float(p) for p in chosen_probability], was_truncated))
        return results

    def subtokens(self, sentences: Sequence[Sequence[str]]) -> list[int]:
        """Each sentence's sub-tokens, special tokens left out: what a text costs the model."""
        return self.encoder.subtoken_counts(sentences)


def _required(contents: BundleContents, name: str) -> bytes:
    data = contents.files.get(name)
    if data is None:
        raise ModelBundleError(f"no {name} in the bundle", path=contents.directory)
    return data
