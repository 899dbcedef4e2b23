"""Filling the teacher's gaps: entities it missed, added from a model's confident predictions.

An LLM teacher misses many entities (the shared teacher answers' recall is about 0.6), and every miss is
learnt as "this is not a name". A student trained on the gold sentences finds many of them. Here its
predictions fill the teacher's O words only: a predicted entity is added when every word of it is O in
the teacher's tags and the model's probability of its label on each word is at least the threshold;
anything that touches a teacher entity is left out, so the teacher wins every conflict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nerd.spans import Span, iob2_to_spans, spans_to_iob2


@dataclass
class GapFilling:
    """What filling added, over all sentences."""

    sentences: int = 0
    sentences_changed: int = 0
    added: Counter[str] = field(default_factory=Counter)
    below_threshold: int = 0
    conflicting: int = 0


def fill_gaps(
    teacher_tags: Sequence[str],
    predicted_tags: Sequence[str],
    confidence: Sequence[float],
    min_confidence: float,
    tally: GapFilling | None = None,
) -> list[str]:
    """The teacher's tags with the predicted entities that lie wholly on its O words added.

    ``confidence`` is, per word, the model's probability of the label it predicted there.

    >>> fill_gaps(["B-ORG", "O", "O", "O"], ["B-ORG", "O", "B-PER", "I-PER"], [0.9, 1, 0.95, 0.97], 0.9)
    ['B-ORG', 'O', 'B-PER', 'I-PER']
    >>> fill_gaps(["O", "O"], ["B-LOC", "I-LOC"], [0.99, 0.5], 0.9)
    ['O', 'O']
    >>> fill_gaps(["B-ORG", "O"], ["B-ORG", "I-ORG"], [0.99, 0.99], 0.9)  # the teacher wins
    ['B-ORG', 'O']
    """
    if not len(teacher_tags) == len(predicted_tags) == len(confidence):
        raise ValueError(
            f"{len(teacher_tags)} teacher tags, {len(predicted_tags)} predicted tags and "
            f"{len(confidence)} confidences: one of each per word"
        )
    tally = tally if tally is not None else GapFilling()
    kept: list[Span] = iob2_to_spans(teacher_tags)
    taken = np.zeros(len(teacher_tags), dtype=bool)
    for span in kept:
        taken[span.start : span.end] = True
    added = []
    for span in iob2_to_spans(predicted_tags):
        if taken[span.start : span.end].any():
            tally.conflicting += 1
        elif min(confidence[span.start : span.end]) < min_confidence:
            tally.below_threshold += 1
        else:
            added.append(span)
    tally.sentences += 1
    if not added:
        return list(teacher_tags)
    tally.sentences_changed += 1
    tally.added.update(span.label for span in added)
    return spans_to_iob2(sorted(kept + added), len(teacher_tags))
