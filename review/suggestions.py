"""What a reviewer is shown beside a sentence: the teacher's spans, the model's spans with a confidence
each, and the two numbers the queue can be ordered by (how unsure the model is, how far the teacher and
the model disagree)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nerd.spans import Span as TagSpan
from nerd.spans import iob2_to_spans, spans_to_iob2

# [start, end, label] or, from a model, [start, end, label, confidence]
SpanList = list[list[object]]


def spans_of_tags(tags: Sequence[str]) -> SpanList:
    """IOB2 tags as token-range spans.

    >>> spans_of_tags(["B-PER", "I-PER", "O", "B-LOC"])
    [[0, 2, 'PER'], [3, 4, 'LOC']]
    """
    return [[span.start, span.end, span.label] for span in iob2_to_spans(tags)]


def tags_of_spans(spans: SpanList, length: int) -> list[str]:
    """Token-range spans as IOB2 tags.

    >>> tags_of_spans([[0, 2, "PER"], [3, 4, "LOC"]], 4)
    ['B-PER', 'I-PER', 'O', 'B-LOC']
    """
    return spans_to_iob2([TagSpan(int(s[0]), int(s[1]), str(s[2])) for s in spans], length)


def model_spans(tags: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]) -> SpanList:
    """The model's spans, each with its confidence: the mean probability the model gave its words' tags."""
    index = {label: i for i, label in enumerate(labels)}
    spans: SpanList = []
    for span in iob2_to_spans(tags):
        chosen = [probabilities[word, index[tags[word]]] for word in range(span.start, span.end)]
        spans.append([span.start, span.end, span.label, round(float(np.mean(chosen)), 4)])
    return spans


def uncertainty(tags: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]) -> float:
    """How unsure the model is of a sentence: 1 minus the lowest probability it gave a chosen tag.

    >>> round(uncertainty(["O", "B-PER"], np.array([[0.9, 0.1], [0.3, 0.7]]), ["O", "B-PER"]), 2)
    0.3
    """
    if not len(tags):
        return 0.0
    index = {label: i for i, label in enumerate(labels)}
    chosen = [probabilities[word, index[tag]] for word, tag in enumerate(tags)]
    return round(1.0 - float(min(chosen)), 4)


def disagreement(first: SpanList | None, second: SpanList | None) -> float:
    """1 minus the entity F1 between two suggestions (0 when either is missing, or both are empty).

    >>> disagreement([[0, 1, "PER"]], [[0, 1, "PER"]]), disagreement([[0, 1, "PER"]], [[0, 1, "LOC"]])
    (0.0, 1.0)
    """
    if first is None or second is None:
        return 0.0
    a = {(int(s[0]), int(s[1]), str(s[2])) for s in first}
    b = {(int(s[0]), int(s[1]), str(s[2])) for s in second}
    if not a and not b:
        return 0.0
    return round(1.0 - 2 * len(a & b) / (len(a) + len(b)), 4)
