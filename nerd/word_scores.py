"""From a model's sub-token scores to word scores and tags: the one stitching and decoding path.

A sentence is read in windows (:mod:`nerd.windows`); every word is scored at its first sub-token in the
window that owns it, and each sentence's word scores are decoded to valid IOB2 (:mod:`nerd.decoding`).
The serving engine, the PyTorch tagger, export's verification and training's dev scoring all go through
:func:`word_logits`, whatever runs the model behind the ``logits`` function they pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from nerd.decoding import DEFAULT_DECODING, Decoding, decode, log_softmax
from nerd.inference_batches import inference_batches


class WordWindow(Protocol):
    """What stitching needs of a window: whose sentence it is, where its words start, which it owns."""

    @property
    def sentence(self) -> int: ...
    @property
    def first_word(self) -> int: ...
    @property
    def word_starts(self) -> list[int]: ...
    @property
    def owned(self) -> tuple[int, int]: ...
    def __len__(self) -> int: ...


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def word_logits(
    windows: Sequence[WordWindow],
    sentence_lengths: Sequence[int],
    labels: Sequence[str],
    logits: Callable[[Sequence[WordWindow]], np.ndarray],
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


def tag_windows(
    windows: Sequence[WordWindow],
    sentence_lengths: Sequence[int],
    labels: Sequence[str],
    logits: Callable[[Sequence[WordWindow]], np.ndarray],
    batch_size: int,
    on_batch: Callable[[list[int], np.ndarray], None] | None = None,
    *,
    decoding: Decoding = DEFAULT_DECODING,
) -> list[list[str]]:
    """Tags from any logits function (the session, or a reference model in export's verification):
    :func:`word_logits`, each sentence decoded to valid IOB2 (:mod:`nerd.decoding`)."""
    scores = word_logits(windows, sentence_lengths, labels, logits, batch_size, on_batch)
    return decode([log_softmax(sentence) for sentence in scores], labels, decoding)
