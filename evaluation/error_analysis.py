"""Where a model goes wrong, entity by entity: the kinds of error and the type confusion matrix.

Each gold and predicted entity is matched at most once. An exact match (same words, same type) is
correct. Otherwise a predicted entity that overlaps a gold one is, in this order of preference:
``wrong_type`` (same words, other type), ``wrong_boundary`` (same type, other words) or
``wrong_both`` (other words and type). A gold entity left unmatched is ``missed``; a predicted
entity left unmatched is ``spurious``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from nerd.spans import Span, iob2_to_spans

KINDS = ("wrong_type", "wrong_boundary", "wrong_both", "missed", "spurious")
NONE = "(none)"


@dataclass
class SentenceErrors:
    """The errors of one sentence: (kind, gold span or None, predicted span or None)."""

    index: int
    errors: list[tuple[str, Span | None, Span | None]] = field(default_factory=list)


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def sentence_errors(index: int, gold_tags: Sequence[str], predicted_tags: Sequence[str]) -> SentenceErrors:
    """Classify every unmatched entity of one sentence.

    >>> found = sentence_errors(0, ["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "O", "O", "B-ORG"])
    >>> [kind for kind, _, _ in found.errors]
    ['wrong_type', 'wrong_boundary']
    """
    gold = iob2_to_spans(gold_tags)
    predicted = iob2_to_spans(predicted_tags)
    exact = set(gold) & set(predicted)
    gold_left = [s for s in gold if s not in exact]
    predicted_left = [s for s in predicted if s not in exact]
    result = SentenceErrors(index)
    for kind, accepts in (
        ("wrong_type", lambda g, p: (g.start, g.end) == (p.start, p.end)),
        ("wrong_boundary", lambda g, p: g.label == p.label and _overlap(g, p) > 0),
        ("wrong_both", lambda g, p: _overlap(g, p) > 0),
    ):
        for gold_span in list(gold_left):
            match = next((p for p in predicted_left if accepts(gold_span, p)), None)
            if match is not None:
                result.errors.append((kind, gold_span, match))
                gold_left.remove(gold_span)
                predicted_left.remove(match)
    result.errors.extend(("missed", span, None) for span in gold_left)
    result.errors.extend(("spurious", None, span) for span in predicted_left)
    return result


@dataclass
class ErrorAnalysis:
    """Counts by kind, the gold-type x predicted-type confusion counts, and the errors of each sentence."""

    counts: dict[str, int]
    confusion: dict[str, dict[str, int]]
    sentences: list[SentenceErrors]


def analyse_errors(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> ErrorAnalysis:
    """Errors over a corpus; the confusion matrix includes the correct entities on its diagonal."""
    counts: Counter[str] = Counter({kind: 0 for kind in KINDS})
    confusion: Counter[tuple[str, str]] = Counter()
    sentences = []
    for index, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted, strict=True)):
        found = sentence_errors(index, gold_tags, predicted_tags)
        for span in set(iob2_to_spans(gold_tags)) & set(iob2_to_spans(predicted_tags)):
            confusion[(span.label, span.label)] += 1
        for kind, gold_span, predicted_span in found.errors:
            counts[kind] += 1
            confusion[
                (gold_span.label if gold_span else NONE, predicted_span.label if predicted_span else NONE)
            ] += 1
        if found.errors:
            sentences.append(found)
    types = [*sorted({t for pair in confusion for t in pair if t != NONE}), NONE]
    matrix = {g: {p: confusion.get((g, p), 0) for p in types} for g in types}
    return ErrorAnalysis(dict(counts), matrix, sentences)
