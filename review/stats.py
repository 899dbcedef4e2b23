"""How a review is going: counts, each reviewer's throughput, the agreement of reviewers who decided the
same sentences (entity F1 and token-level Cohen's kappa), and how far the reviewed data is from the
teacher per label (the paper's Table 1, against people instead of the original annotators)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

# typing_extensions' TypedDict: pydantic (the review API's response model) needs it before Python 3.12.
from typing_extensions import TypedDict

from nerd.review.exporting import reviewed_sentences
from nerd.review.store import Decision, ReviewStore, active_decisions
from nerd.review.suggestions import tags_of_spans
from nerd.scoring import Scores, entity_scores


class ReviewerStats(TypedDict):
    decisions: int
    accepted: int
    rejected: int
    skipped: int
    undone: int
    per_hour: float | None


class Agreement(TypedDict):
    sentences: int  # accepted by two reviewers
    entity_f1: float  # the first reviewer's spans scored against the second's
    token_kappa: float | None  # Cohen's kappa over the IOB2 tags of every token


class ReviewStats(TypedDict):
    items: int
    decided: int
    exported: int
    rejected: int
    conflicts: int
    undecided: int
    reviewers: dict[str, ReviewerStats]
    agreement: Agreement | None
    teacher_vs_reviewed: Scores | None  # teacher spans scored against the reviewed ones


def cohen_kappa(first: list[str], second: list[str]) -> float | None:
    """Cohen's kappa of two label sequences of the same length (None when chance agreement is total).

    >>> cohen_kappa(["O", "B-PER", "O", "O"], ["O", "B-PER", "O", "B-LOC"])
    0.5556
    """
    if len(first) != len(second) or not first:
        raise ValueError("two sequences of the same, non-zero length")
    total = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / total
    a_counts, b_counts = Counter(first), Counter(second)
    expected = sum(a_counts[label] * b_counts[label] for label in a_counts) / (total * total)
    if expected == 1.0:
        return None
    return round((observed - expected) / (1 - expected), 4)


def _per_hour(decisions: list[Decision]) -> float | None:
    """Decisions an hour between a reviewer's first and last (None below two decisions)."""
    if len(decisions) < 2:
        return None
    first = datetime.fromisoformat(decisions[0].at)
    last = datetime.fromisoformat(decisions[-1].at)
    hours = (last - first).total_seconds() / 3600
    return round((len(decisions) - 1) / hours, 1) if hours > 0 else None


def reviewer_stats(own: Sequence[Decision]) -> ReviewerStats:
    """One reviewer's figures from their own decisions: what they say now about each item (an undone
    decision no longer counts), how many undos, and their pace."""
    by_item: dict[int, list[Decision]] = {}
    for decision in own:
        by_item.setdefault(decision.item_id, []).append(decision)
    now = Counter(active[-1].action for events in by_item.values() if (active := active_decisions(events)))
    return {
        "decisions": len(own),
        "accepted": now["accept"],
        "rejected": now["reject"],
        "skipped": now["skip"],
        "undone": sum(1 for d in own if d.action == "undo"),
        "per_hour": _per_hour([d for d in own if d.action != "undo"]),
    }


def review_stats(store: ReviewStore) -> ReviewStats:
    items = {item.id: item for item in store.items()}
    decisions = store.decisions()
    state = store.state()
    by_reviewer: dict[str, list[Decision]] = {}
    for decision in decisions:
        by_reviewer.setdefault(decision.reviewer, []).append(decision)
    reviewers = {reviewer: reviewer_stats(own) for reviewer, own in by_reviewer.items()}
    sentences, counts = reviewed_sentences(list(items.values()), state)
    return {
        "items": len(items),
        "decided": sum(1 for decided in state.values() if any(d.action != "skip" for d in decided.values())),
        "exported": counts.exported,
        "rejected": counts.rejected,
        "conflicts": counts.conflicts,
        "undecided": counts.undecided,
        "reviewers": reviewers,
        "agreement": _agreement(items, state),
        "teacher_vs_reviewed": _teacher_distance(sentences),
    }


def _agreement(items: dict[int, Any], state: dict[int, dict[str, Decision]]) -> Agreement | None:
    firsts, seconds = [], []
    for item_id, decided in state.items():
        accepted = [d for _, d in sorted(decided.items()) if d.action == "accept"]
        if len(accepted) < 2:
            continue
        length = len(items[item_id].tokens)
        firsts.append(tags_of_spans(accepted[0].spans or [], length))
        seconds.append(tags_of_spans(accepted[1].spans or [], length))
    if not firsts:
        return None
    flat_first = [tag for tags in firsts for tag in tags]
    flat_second = [tag for tags in seconds for tag in tags]
    return {
        "sentences": len(firsts),
        "entity_f1": entity_scores(seconds, firsts)["micro"]["f1"],
        "token_kappa": cohen_kappa(flat_first, flat_second),
    }


def _teacher_distance(sentences: list[Any]) -> Scores | None:
    with_teacher = [s for s in sentences if s.item.teacher is not None]
    if not with_teacher:
        return None
    reviewed = [s.tags for s in with_teacher]
    teacher = [tags_of_spans(s.item.teacher, len(s.item.tokens)) for s in with_teacher]
    return entity_scores(reviewed, teacher)
