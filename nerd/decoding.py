"""From per-word label scores to IOB2 tags: constrained Viterbi (the default) or arg-max then repair.

Arg-max labels each word on its own, so a name whose words disagree on the type comes out as two entities
("United" B-ORG + "Nations" I-LOC is repaired to ORG + LOC). Viterbi finds the most probable tag
sequence that is valid IOB2: ``I-X`` only after ``B-X`` or ``I-X``, never first. Scores are per-word
log-probabilities (log-softmax of the logits, or the log of aggregated probabilities).

Every place that predicts (``nerd serve``, ``nerd evaluate``, export verification, training's dev
scoring, ``nerd evolve``) decodes here. numpy only: the service never imports torch.

>>> labels = ["O", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
>>> united_nations = np.log([[0.01, 0.55, 0.01, 0.42, 0.01], [0.05, 0.01, 0.44, 0.01, 0.49]])
>>> decode([united_nations], labels, "argmax")
[['B-ORG', 'B-LOC']]
>>> decode([united_nations], labels, "viterbi")
[['B-ORG', 'I-ORG']]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np

from nerd.spans import repair_iob2

Decoding = Literal["viterbi", "argmax"]
DECODINGS: tuple[Decoding, ...] = ("viterbi", "argmax")
DEFAULT_DECODING: Decoding = "viterbi"


@lru_cache(maxsize=32)
def _constraints(labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Which labels may open a sentence, and which may follow which (``allowed[previous, next]``)."""
    count = len(labels)
    start = np.ones(count, dtype=bool)
    allowed = np.ones((count, count), dtype=bool)
    for index, label in enumerate(labels):
        if label.startswith("I-"):
            start[index] = False
            continues = f"B-{label[2:]}", label
            allowed[:, index] = [previous in continues for previous in labels]
    return start, allowed


def viterbi_path(scores: np.ndarray, start: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The label indices of the best valid path through ``scores`` ``(words, labels)``."""
    words = len(scores)
    if words == 0:
        return np.zeros(0, dtype=np.int64)
    transitions = np.where(allowed, 0.0, -np.inf)
    best = np.where(start, scores[0], -np.inf)
    back = np.zeros((words, scores.shape[1]), dtype=np.int64)
    for word in range(1, words):
        candidates = best[:, None] + transitions
        back[word] = candidates.argmax(axis=0)
        best = candidates[back[word], np.arange(scores.shape[1])] + scores[word]
    path = np.empty(words, dtype=np.int64)
    path[-1] = int(best.argmax())
    for word in range(words - 1, 0, -1):
        path[word - 1] = back[word, path[word]]
    return path


def decode_indices(
    scores: Sequence[np.ndarray], labels: Sequence[str], decoding: Decoding = DEFAULT_DECODING
) -> list[np.ndarray]:
    """Each sentence's chosen label indices.

    With ``argmax`` the indices are each word's best label (the tags still need :func:`repair_iob2`).
    Viterbi runs only where the arg-max sequence breaks IOB2: where it does not, it is already the best
    valid path, since the constraints only forbid paths.
    """
    if decoding not in DECODINGS:
        raise ValueError(f"unknown decoding {decoding!r}: use one of {', '.join(DECODINGS)}")
    chosen = [np.asarray(s).argmax(axis=-1) if len(s) else np.zeros(0, np.int64) for s in scores]
    if decoding == "argmax":
        return chosen
    start, allowed = _constraints(tuple(labels))
    for index, (sentence, best) in enumerate(zip(scores, chosen, strict=True)):
        if len(best) and not (start[best[0]] and allowed[best[:-1], best[1:]].all()):
            chosen[index] = viterbi_path(np.asarray(sentence, dtype=np.float64), start, allowed)
    return chosen


def decode(
    scores: Sequence[np.ndarray], labels: Sequence[str], decoding: Decoding = DEFAULT_DECODING
) -> list[list[str]]:
    """Valid IOB2 tags for each sentence from its ``(words, labels)`` log-probabilities."""
    return [
        repair_iob2([labels[int(i)] for i in indices]) for indices in decode_indices(scores, labels, decoding)
    ]


def log_of(probabilities: np.ndarray) -> np.ndarray:
    """Log-probabilities of probability rows: a 0 (a float32 underflow) makes a label very unlikely, not
    impossible, so that no path is left out."""
    return np.log(np.maximum(probabilities, 1e-30))


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities over the last axis, computed stably."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
