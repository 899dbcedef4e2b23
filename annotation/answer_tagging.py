"""Turning one answer's entity dictionary into IOB2 tags over a sentence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nerd.annotation.alignment import AlignmentEvent, EventKind, Rung, align_entities
from nerd.labels import LabelSet
from nerd.spans import spans_to_iob2


@dataclass
class Labelling:
    """Tags for a sentence and everything about the answer that did not fit as given."""

    tags: list[str]
    events: list[AlignmentEvent]
    rungs: Counter[Rung] = field(default_factory=Counter)
    listed: int = 0
    synonyms_mapped: Counter[str] = field(default_factory=Counter)
    unknown_labels: Counter[str] = field(default_factory=Counter)

    def count(self, kind: EventKind) -> int:
        """Number of events of one kind."""
        return sum(1 for event in self.events if event.kind is kind)


def label_sentence(tokens: Sequence[str], entities: Mapping[str, list[str]], labels: LabelSet) -> Labelling:
    """Map the answer's types onto ``labels``, align its strings to ``tokens`` and tag the sentence.

    Strings under a type that maps to no label are reported as ``unknown_label`` events and dropped.
    """
    pairs: list[tuple[str, str]] = []
    synonyms: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    listed = 0
    unknown_events: list[AlignmentEvent] = []
    for given, strings in entities.items():
        listed += len(strings)
        label = labels.canonical(given)
        if label is None:
            unknown[given] += len(strings)
            unknown_events.extend(AlignmentEvent(EventKind.UNKNOWN_LABEL, given, text) for text in strings)
            continue
        if label != given and strings:
            synonyms[given] += 1
        pairs.extend((label, text) for text in strings)
    alignment = align_entities(tokens, pairs)
    tags = spans_to_iob2(alignment.spans, len(tokens))
    return Labelling(
        tags,
        unknown_events + alignment.events,
        Counter(alignment.rungs),
        listed,
        synonyms,
        unknown,
    )
