"""The inference engine: one onnxruntime session over a verified bundle, words in, IOB2 tags out.

Everything that scores or serves an exported model goes through this class (export's verification,
``nerd evaluate`` on a bundle, ``nerd serve``), so what was measured is what runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nerd.decoding import DEFAULT_DECODING, Decoding, decode, decode_indices, log_of, log_softmax
from nerd.errors import ModelBundleError
from nerd.inference_batches import inference_batches
from nerd.model_bundle import MODEL_FILE, BundleContents, Manifest, verified_bundle
from nerd.service.encoding import Window, WordEncoder, pad_token_id
from nerd.spans import repair_iob2

Aggregation = Literal["first", "average", "max"]
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
# onnxruntime's fused SkipLayerNormalization and BiasGelu CPU kernels were slower on the development
# machine than the Add + LayerNormalization and Add + Gelu they replace (CoNLL dev, shipped int8 model:
# model time 3.38 -> 3.03 s with the first one off); on CUDA the fusions pay and stay on.
SLOW_CPU_FUSIONS = ("SkipLayerNormFusion", "BiasGeluFusion")


@dataclass(frozen=True)
class Reading:
    """How words get their labels: sub-token aggregation and sequence decoding (a request may choose)."""

    aggregation: Aggregation = "first"
    decoding: Decoding = DEFAULT_DECODING


class ProviderUnavailable(ModelBundleError):
    """The execution provider that was asked for is not the one onnxruntime can give (no silent fallback)."""


def default_threads() -> int:
    """The cores this process may run on (its affinity mask, not the machine's core count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class OnnxTagger:
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
        self.encoder = WordEncoder(_required(contents, "tokenizer.json"), self.manifest.max_length)
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
        width = max(len(window) for window in windows)
        input_ids = np.full((len(windows), width), self.pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(windows), width), dtype=np.int64)
        for row, window in enumerate(windows):
            input_ids[row, : len(window)] = window.input_ids
            attention_mask[row, : len(window)] = 1
        feed: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in self.input_names:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        tick = time.perf_counter()
        (output,) = self.session.run(["logits"], feed)
        self.session_seconds += time.perf_counter() - tick
        return output.astype(np.float32, copy=False)

    def tag(
        self,
        sentences: Sequence[Sequence[str]],
        *,
        batch_size: int = 64,
        stride: int = 0,
        decoding: Decoding = DEFAULT_DECODING,
    ) -> list[list[str]]:
        """IOB2 tags for the words of every sentence, each word scored on its first sub-token."""
        windows = self.encoder.encode(sentences, stride=stride)
        return tag_windows(
            windows, [len(s) for s in sentences], self.labels, self.logits, batch_size, decoding=decoding
        )

    def word_probabilities(
        self, sentences: Sequence[Sequence[str]], *, batch_size: int = 64, stride: int = 0
    ) -> list[np.ndarray]:
        """Each sentence's ``(words, labels)`` label distribution, read at each word's first sub-token."""
        return word_distributions(self.encoder, self.labels, self.logits, sentences, batch_size, stride)

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


@dataclass(frozen=True)
class WordPredictions:
    """One sentence's word labels (valid IOB2), each label's probability, and whether a limit cut it."""

    tags: list[str]
    probabilities: list[float]
    truncated: bool


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def aggregate(rows: np.ndarray, how: Aggregation) -> np.ndarray:
    """One probability vector for a word from those of its sub-tokens.

    ``first``: the first sub-token's (what training labelled); ``average``: the mean over the
    sub-tokens; ``max``: the sub-token whose best label is most probable.

    >>> rows = np.array([[0.6, 0.4], [0.1, 0.9]])
    >>> [aggregate(rows, how).tolist() for how in ("first", "average", "max")]
    [[0.6, 0.4], [0.35, 0.65], [0.1, 0.9]]
    """
    if how == "first":
        return rows[0]
    if how == "average":
        return rows.mean(axis=0)
    return rows[int(rows.max(axis=-1).argmax())]


def word_logits(
    windows: Sequence[Window],
    sentence_lengths: Sequence[int],
    labels: Sequence[str],
    logits: Callable[[Sequence[Window]], np.ndarray],
    batch_size: int,
    on_batch: Callable[[list[int], np.ndarray], None] | None = None,
) -> list[np.ndarray]:
    """Each sentence's ``(words, labels)`` logits, every word read at its first sub-token in the window
    that owns it; windows run in batches of similar length. ``on_batch`` sees each batch's window
    indices and logits."""
    # A word no window owns (none does, by construction) would score "O" certain rather than be lost.
    certain_o = np.full(len(labels), -np.inf, dtype=np.float32)
    certain_o[list(labels).index("O") if "O" in labels else 0] = 0.0
    scores = [np.tile(certain_o, (length, 1)) for length in sentence_lengths]
    for batch in inference_batches([len(w) for w in windows], batch_size):
        chosen = [windows[i] for i in batch]
        batch_logits = logits(chosen)
        if on_batch is not None:
            on_batch(batch, batch_logits)
        for window, rows in zip(chosen, batch_logits, strict=True):
            sentence = scores[window.sentence]
            for offset, position in enumerate(window.word_starts):
                word = window.first_word + offset
                if window.owned[0] <= word < window.owned[1]:
                    sentence[word] = rows[position]
    return scores


def word_distributions(
    encoder: WordEncoder,
    labels: Sequence[str],
    logits: Callable[[Sequence[Window]], np.ndarray],
    sentences: Sequence[Sequence[str]],
    batch_size: int,
    stride: int,
) -> list[np.ndarray]:
    """Softmax of :func:`word_logits` for words not yet encoded (any model behind ``logits``)."""
    windows = encoder.encode(sentences, stride=stride)
    scores = word_logits(windows, [len(s) for s in sentences], labels, logits, batch_size)
    return [softmax(sentence) for sentence in scores]


def tag_windows(
    windows: Sequence[Window],
    sentence_lengths: Sequence[int],
    labels: Sequence[str],
    logits: Callable[[Sequence[Window]], np.ndarray],
    batch_size: int,
    on_batch: Callable[[list[int], np.ndarray], None] | None = None,
    *,
    decoding: Decoding = DEFAULT_DECODING,
) -> list[list[str]]:
    """Tags from any logits function (the session, or a reference model in export's verification):
    :func:`word_logits`, each sentence decoded to valid IOB2 (:mod:`nerd.decoding`)."""
    scores = word_logits(windows, sentence_lengths, labels, logits, batch_size, on_batch)
    return decode([log_softmax(sentence) for sentence in scores], labels, decoding)
