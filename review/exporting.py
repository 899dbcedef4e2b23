"""Reviewed sentences out: CoNLL (IOB2) for ``nerd train --original`` and training records (JSONL) for
``--distilled``, with ``reviewed: true`` in their provenance.

Only accepted items leave: an item whose reviewers' current decisions are all "accept" with the same
spans. An item someone rejected, or on which two reviewers accepted different spans, stays out and is
counted (a conflict is for a person to settle, not for the export to pick a side).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nerd.atomic import atomic_write_text
from nerd.records import Provenance, TrainingRecord
from nerd.review.store import Decision, ItemRow, ReviewStore
from nerd.review.suggestions import tags_of_spans


@dataclass(frozen=True)
class ReviewedSentence:
    item: ItemRow
    tags: list[str]
    reviewers: tuple[str, ...]


@dataclass(frozen=True)
class ExportCounts:
    exported: int
    rejected: int
    conflicts: int
    undecided: int


def reviewed_sentences(
    items: Sequence[ItemRow], state: dict[int, dict[str, Decision]]
) -> tuple[list[ReviewedSentence], ExportCounts]:
    """The accepted sentences in queue order, and what stayed out (``state``: ``ReviewStore.state()``)."""
    accepted: list[ReviewedSentence] = []
    rejected = conflicts = undecided = 0
    for item in items:
        decided = {who: d for who, d in state.get(item.id, {}).items() if d.action in ("accept", "reject")}
        if not decided:
            undecided += 1
            continue
        if any(d.action == "reject" for d in decided.values()):
            if all(d.action == "reject" for d in decided.values()):
                rejected += 1
            else:
                conflicts += 1
            continue
        versions = {tuple(tuple(span) for span in (d.spans or [])) for d in decided.values()}
        if len(versions) > 1:
            conflicts += 1
            continue
        spans = [list(span) for span in next(iter(versions))]
        tags = tags_of_spans(spans, len(item.tokens))
        accepted.append(ReviewedSentence(item, tags, tuple(sorted(decided))))
    return accepted, ExportCounts(len(accepted), rejected, conflicts, undecided)


def export_reviewed(
    store: ReviewStore, *, conll: Path | None = None, jsonl: Path | None = None
) -> ExportCounts:
    """Write the accepted sentences (atomically) to the files asked for; returns the counts.

    Raises:
        ReviewStoreError: an unusable database; OutputError: a file that cannot be written.
    """
    sentences, counts = reviewed_sentences(store.items(), store.state())
    if conll is not None:
        blocks = [
            "".join(f"{token} {tag}\n" for token, tag in zip(s.item.tokens, s.tags, strict=True))
            for s in sentences
        ]
        atomic_write_text(conll, "\n".join(blocks) + ("\n" if blocks else ""))
    if jsonl is not None:
        lines = [_record(s).to_json_line() for s in sentences]
        atomic_write_text(jsonl, "".join(line + "\n" for line in lines))
    return counts


def _record(sentence: ReviewedSentence) -> TrainingRecord:
    item = sentence.item
    teacher = (item.teacher_provenance or {}).get("teacher")
    file, _, line = item.source.rpartition(":")
    return TrainingRecord(
        id=str((item.teacher_provenance or {}).get("id") or f"review-{item.id}"),
        tokens=list(item.tokens),
        tags=sentence.tags,
        provenance=Provenance(
            file=file or item.source,
            line=int(line) if line.isdigit() else 0,
            shape="reviewed",
            teacher=teacher if isinstance(teacher, str) else None,
            reviewed=True,
            reviewers=list(sentence.reviewers),
        ),
    )
