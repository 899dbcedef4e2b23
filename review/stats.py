"""How a review is going: counts (from SQL, never a replay of the events), each reviewer's
throughput, the agreement of reviewers who decided the same sentences (entity F1 and token-level
Cohen's kappa), and how far the reviewed data is from the teacher per label (the paper's Table 1,
against people instead of the original annotators)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

# typing_extensions' TypedDict: pydantic (the review API's response model) needs it before Python 3.12.
from typing_extensions import TypedDict

from nerd.review.events import DECIDING, as_decision
from nerd.review.exporting import ExportCounts, outcome
from nerd.review.store import ReviewStore
from nerd.review.suggestions import tags_of_spans
from nerd.review.tables import CurrentRow, DecisionRow, ItemRow
from nerd.scoring import Score, Scores


class ReviewerStats(TypedDict):
    decisions: int
    accepted: int
    rejected: int
    skipped: int
    undone: int
    per_hour: float | None


class Agreement(TypedDict):
    sentences: int  # accepted by two reviewers
    entity_f1: float  # the first reviewer's spans scored against the second's (1.0 when both found none)
    token_kappa: float | None  # Cohen's kappa over the IOB2 tags of every token


class ReviewStats(TypedDict):
    items: int
    decided: int
    exported: int
    rejected: int
    conflicts: int  # open: reviewers disagree and no one settled yet
    settled: int
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


Span = tuple[int, int, str]


def span_scores(true: list[set[tuple[int, int, str]]], predicted: list[set[tuple[int, int, str]]]) -> Scores:
    """Exact-span precision, recall and F1 per type and averaged (what seqeval gives for valid IOB2
    spans), counted from span sets: 100,000 sentences in well under a second.

    >>> span_scores([{(0, 1, "PER")}], [{(0, 1, "PER"), (2, 3, "LOC")}])["micro"]["precision"]
    0.5
    """
    hits: Counter[str] = Counter()
    wanted: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for gold, guess in zip(true, predicted, strict=True):
        wanted.update(label for _, _, label in gold)
        found.update(label for _, _, label in guess)
        hits.update(label for _, _, label in gold & guess)

    def row(tp: int, t: int, p: int) -> Score:
        precision = tp / p if p else 0.0
        recall = tp / t if t else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": t,
        }

    per_type = {label: row(hits[label], wanted[label], found[label]) for label in sorted(wanted | found)}
    micro = row(sum(hits.values()), sum(wanted.values()), sum(found.values()))
    rows = [r for label, r in per_type.items() if wanted[label]]
    support = sum(r["support"] for r in rows)

    def average(weights: list[float]) -> Score:
        total = sum(weights) or 1.0
        mean = {
            k: round(sum(w * r[k] for w, r in zip(weights, rows, strict=True)) / total, 4)  # type: ignore[literal-required]
            for k in ("precision", "recall", "f1")
        }
        return {**mean, "support": support}  # type: ignore[typeddict-item]

    return {
        "micro": micro,
        "macro": average([1.0] * len(rows)),
        "weighted": average([float(r["support"]) for r in rows]),
        "per_type": per_type,
    }


def _per_hour(count: int, first: str | None, last: str | None) -> float | None:
    if count < 2 or first is None or last is None:
        return None
    hours = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds() / 3600
    return round((count - 1) / hours, 1) if hours > 0 else None


def _reviewers(session: Session) -> dict[str, ReviewerStats]:
    found: dict[str, ReviewerStats] = {}
    events = session.execute(
        select(
            DecisionRow.reviewer,
            func.count(),
            func.sum(case((DecisionRow.action == "undo", 1), else_=0)),
            func.min(DecisionRow.at),
            func.max(DecisionRow.at),
        )
        .where(DecisionRow.action != "settle")
        .group_by(DecisionRow.reviewer)
    ).all()
    standing = Counter(
        {
            (who, action): count
            for who, action, count in session.execute(
                select(CurrentRow.reviewer, CurrentRow.action, func.count()).group_by(
                    CurrentRow.reviewer, CurrentRow.action
                )
            ).all()
        }
    )
    for who, count, undone, first, last in events:
        undone = int(undone or 0)
        found[who] = {
            "decisions": count,
            "accepted": standing[(who, "accept")],
            "rejected": standing[(who, "reject")],
            "skipped": standing[(who, "skip")],
            "undone": undone,
            "per_hour": _per_hour(count - undone, first, last),
        }
    return found


def _agreement(session: Session) -> Agreement | None:
    """Over the items two reviewers accepted: the first's spans (by name) against the second's."""
    twice = (
        select(CurrentRow.item_id)
        .where(CurrentRow.action == "accept")
        .group_by(CurrentRow.item_id)
        .having(func.count() >= 2)
    )
    rows = session.execute(
        select(ItemRow.id, ItemRow.tokens, CurrentRow.reviewer, DecisionRow.spans)
        .join(CurrentRow, CurrentRow.item_id == ItemRow.id)
        .join(DecisionRow, DecisionRow.id == CurrentRow.decision_id)
        .where(ItemRow.id.in_(twice), CurrentRow.action == "accept")
        .order_by(ItemRow.id, CurrentRow.reviewer)
    )
    accepted: dict[int, tuple[int, list[Any]]] = {}
    for item_id, tokens, _, spans in rows:
        accepted.setdefault(item_id, (len(tokens), []))[1].append(spans or [])
    if not accepted:
        return None
    firsts, seconds, first_tags, second_tags = [], [], [], []
    for length, versions in accepted.values():
        a, b = ({(int(s[0]), int(s[1]), str(s[2])) for s in spans} for spans in versions[:2])
        firsts.append(a)
        seconds.append(b)
        first_tags += tags_of_spans([list(s) for s in a], length)
        second_tags += tags_of_spans([list(s) for s in b], length)
    # Two reviewers who both found no entity agree: F1 over no entities is 1.0, not 0.
    none_anywhere = not any(firsts) and not any(seconds)
    return {
        "sentences": len(accepted),
        "entity_f1": 1.0 if none_anywhere else span_scores(seconds, firsts)["micro"]["f1"],
        "token_kappa": cohen_kappa(first_tags, second_tags),
    }


def _outcomes(session: Session) -> tuple[ExportCounts, list[set[Span]], list[set[Span]]]:
    """What the export would do with every item, and the teacher's spans beside the reviewed ones of
    each exported item: one query over the items and their standing decisions (light rows, not the
    ORM's objects: 100,000 items in about a second)."""
    settlements = {
        row.id: as_decision(row)
        for row in session.scalars(select(DecisionRow).where(DecisionRow.action == "settle"))
    }
    rows = session.execute(
        select(ItemRow.id, ItemRow.teacher, ItemRow.settlement_id, DecisionRow.action, DecisionRow.spans)
        .select_from(ItemRow)
        .outerjoin(CurrentRow, and_(CurrentRow.item_id == ItemRow.id, CurrentRow.action.in_(DECIDING)))
        .outerjoin(DecisionRow, DecisionRow.id == CurrentRow.decision_id)
        .order_by(ItemRow.id)
        .execution_options(yield_per=5000)
    )
    counts = ExportCounts()
    reviewed: list[set[Span]] = []
    teacher: list[set[Span]] = []

    def settle_item(teacher_spans: Any, settlement_id: int | None, votes: list[tuple[str, Any]]) -> None:
        settlement = settlements.get(settlement_id) if settlement_id else None
        kind = outcome(votes, settlement)
        if kind != "accepted":
            counts.add(kind)
            return
        counts.exported += 1
        counts.settled += settlement is not None
        if teacher_spans is not None:
            final = settlement.spans if settlement is not None else next(s for a, s in votes if a == "accept")
            reviewed.append({(int(s[0]), int(s[1]), str(s[2])) for s in final or []})
            teacher.append({(int(s[0]), int(s[1]), str(s[2])) for s in teacher_spans})

    current_id, current = None, None
    votes: list[tuple[str, Any]] = []
    for item_id, teacher_spans, settlement_id, action, spans in rows:
        if item_id != current_id:
            if current is not None:
                settle_item(*current, votes)
            current_id, current, votes = item_id, (teacher_spans, settlement_id), []
        if action is not None:
            votes.append((action, spans))
    if current is not None:
        settle_item(*current, votes)
    return counts, reviewed, teacher


def review_stats(store: ReviewStore) -> ReviewStats:
    with store.database.reading() as session:
        items = session.scalar(select(func.count()).select_from(ItemRow)) or 0
        decided = (
            session.scalar(
                select(func.count(func.distinct(CurrentRow.item_id))).where(CurrentRow.action.in_(DECIDING))
            )
            or 0
        )
        reviewers = _reviewers(session)
        open_conflicts = (
            session.scalar(
                select(func.count())
                .select_from(ItemRow)
                .where(and_(ItemRow.conflict.is_(True), ItemRow.settlement_id.is_(None)))
            )
            or 0
        )
        counts, reviewed, teacher = _outcomes(session)
        agreement = _agreement(session)
    return {
        "items": items,
        "decided": decided,
        "exported": counts.exported,
        "rejected": counts.rejected,
        "conflicts": open_conflicts,
        "settled": counts.settled,
        "undecided": counts.undecided,
        "reviewers": reviewers,
        "agreement": agreement,
        "teacher_vs_reviewed": span_scores(reviewed, teacher) if reviewed else None,
    }
