"""What every exported bundle's tagger does whatever runtime runs its model: the bundle read once and
verified, its tokenizer and labels, and the service's analysis (per-word probabilities, one model call
at a time). :class:`nerd.tagging.onnx_tagger.OnnxTagger` (onnxruntime) and
:class:`nerd.tagging.openvino_tagger.OpenVinoTagger` (OpenVINO) differ only in loading the model and
computing ``logits``.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path

import numpy as np

from nerd.bundle_reading import BundleContents
from nerd.decoding import DEFAULT_DECODING, Decoding, decode_indices, log_of
from nerd.errors import ModelBundleError
from nerd.inference_batches import inference_batches
from nerd.model_bundle import Manifest
from nerd.spans import repair_iob2
from nerd.tagging.encoding import WordEncoder, pad_token_id, shapes_read_by
from nerd.tagging.reading import Aggregation, WordPredictions, aggregate
from nerd.tagging.window_tagger import WindowTagger
from nerd.word_scores import softmax


class BundleTagger(WindowTagger):
    """A verified bundle's manifest, tokenizer and labels; ``logits`` is the runtime's."""

    runtime: str  # the library that runs the model: "onnxruntime" or "openvino"
    # Every file of the model that runs (what it weighs); the first one's sha256 names it in answers.
    model_files: tuple[str, ...]

    def __init__(self, contents: BundleContents) -> None:
        self.path: Path = contents.directory
        self.manifest: Manifest = contents.manifest
        self.bundle_sha256 = contents.digest
        self.training_card = (
            contents.text(self.manifest.training_card) if self.manifest.training_card else None
        )
        self.labels = list(self.manifest.labels)
        self.encoder = WordEncoder(
            required_file(contents, "tokenizer.json"),
            self.manifest.max_length,
            shapes=shapes_read_by(self.manifest.word_shapes, self.path),
        )
        self.pad_id = pad_token_id(contents.files.get("config.json"), self.encoder)
        self.session_seconds = 0.0  # time inside the runtime, summed over calls (for benchmarks)

    @property
    def device(self) -> str:
        """Where the model runs, as ``/readyz`` and ``/v1/model`` report it."""
        raise NotImplementedError

    @property
    def model_sha256(self) -> str:
        return self.manifest.files[self.model_files[0]]

    def check_output_width(self, scored: int | None) -> None:
        """A model whose logits are not one per label of the manifest would index labels wrongly
        (``scored``: the logits' last dimension, None where the graph leaves it open)."""
        if scored is not None and scored != len(self.labels):
            raise ModelBundleError(
                f"the model scores {scored} labels, bundle.json lists {len(self.labels)}",
                path=self.path,
                field="labels",
            )

    def check_reads_shapes(self, input_names: set[str]) -> None:
        """A bundle listing word shapes needs a model with a token-type input to read them."""
        if self.encoder.shapes and "token_type_ids" not in input_names:
            raise ModelBundleError(
                "bundle.json lists word shapes, the model has no token_type_ids input to read them",
                path=self.path,
                field="word_shapes",
            )

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


def required_file(contents: BundleContents, name: str) -> bytes:
    data = contents.files.get(name)
    if data is None:
        raise ModelBundleError(f"no {name} in the bundle", path=contents.directory)
    return data
