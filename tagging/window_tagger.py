"""What every tagger does the same way, whatever runs its model: words to windows, the model's logits,
words stitched and decoded (:mod:`nerd.word_scores`). :class:`OnnxTagger`, :class:`OpenVinoTagger` and
:class:`TorchTagger` differ only in how they load a model and compute ``logits``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nerd.decoding import DEFAULT_DECODING, Decoding
from nerd.tagging.encoding import Window, WordEncoder
from nerd.word_scores import softmax, tag_windows, word_logits


class WindowTagger:
    """Words in, IOB2 tags or label distributions out, through ``encoder`` windows and ``logits``."""

    labels: list[str]
    encoder: WordEncoder

    def logits(self, windows: Sequence[Window]) -> np.ndarray:
        """Float32 logits ``(windows, longest, labels)`` of one batch, padded to its longest window."""
        raise NotImplementedError

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
