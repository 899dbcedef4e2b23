"""Reviewed sentences out: CoNLL (IOB2) for ``nerd train --original`` and training records (JSONL) for
``--distilled``, with ``reviewed: true`` in their provenance.

An item leaves when its reviewers' standing decisions are all "accept" with the same spans, or when an
adjudicator settled it with spans. An item someone rejected, or whose reviewers disagree and no one
settled, stays out and is counted (a conflict is for a person to settle, not for the export to pick a
side).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.atomic import atomic_writer
from nerd.errors import ConfigError
from nerd.records import Provenance, TrainingRecord
from nerd.review.events import Decision
from nerd.review.store import ReviewStore
from nerd.review.suggestions import tags_of_spans
from nerd.review.tables import ItemRow

# Items read per query: the export's memory is one batch, whatever the review's size.
BATCH = 2000


@dataclass(frozen=True)
class ReviewedSentence:
    item: ItemRow
    spans: list[list[object]]
    tags: list[str]
    reviewers: tuple[str, ...]


@dataclass
class ExportCounts:
    exported: int = 0
    rejected: int = 0
    conflicts: int = 0
    undecided: int = 0
    settled: int = 0

    def add(self, kind: str) -> None:
        field = {"rejected": "rejected", "conflict": "conflicts", "undecided": "undecided"}[kind]
        setattr(self, field, getattr(self, field) + 1)


def outcome(votes: Sequence[tuple[str, Any]], settlement: Decision | None) -> str:
    """What the export does with an item, from its reviewers' standing accepts and rejects (action,
    spans) and its settlement: "accepted", "rejected", "conflict" or "undecided"."""
    if settlement is not None:
        return "rejected" if settlement.spans is None else "accepted"
    if not votes:
        return "undecided"
    versions = {(action, tuple(tuple(s) for s in spans or [])) for action, spans in votes}
    if len(versions) > 1:
        return "conflict"
    return "rejected" if next(iter(versions))[0] == "reject" else "accepted"


def reviewed_sentences(store: ReviewStore, counts: ExportCounts) -> Iterator[ReviewedSentence]:
    """The accepted (and settled) sentences in queue order; ``counts`` is filled in as they go."""
    batch: list[ItemRow] = []
    for item in store.iter_items(BATCH):
        batch.append(item)
        if len(batch) == BATCH:
            yield from _batch(store, batch, counts)
            batch = []
    yield from _batch(store, batch, counts)


def _batch(store: ReviewStore, items: Sequence[ItemRow], counts: ExportCounts) -> Iterator[ReviewedSentence]:
    if not items:
        return
    standing = store.standing([item.id for item in items])
    settlements = store.settlements([item.settlement_id for item in items if item.settlement_id])
    for item in items:
        decided = standing.get(item.id, {})
        settlement = settlements.get(item.settlement_id) if item.settlement_id else None
        votes = [(d.action, d.spans) for d in decided.values() if d.action in ("accept", "reject")]
        kind = outcome(votes, settlement)
        if kind != "accepted":
            counts.add(kind)
            continue
        counts.exported += 1
        voters = {who for who, d in decided.items() if d.action in ("accept", "reject")}
        if settlement is not None:
            counts.settled += 1
            spans = settlement.spans or []
            voters.add(settlement.reviewer)
        else:
            spans = next(d.spans or [] for d in decided.values() if d.action == "accept")
        final = [list(s) for s in spans]
        yield ReviewedSentence(item, final, tags_of_spans(final, len(item.tokens)), tuple(sorted(voters)))


def export_reviewed(
    store: ReviewStore, *, conll: Path | None = None, jsonl: Path | None = None
) -> ExportCounts:
    """Write the accepted sentences (atomically) to the files asked for; returns the counts.

    Raises:
        ConfigError: the same file asked for twice; ReviewStoreError: an unusable database;
        OutputError: a file that cannot be written.
    """
    if conll is not None and jsonl is not None and Path(conll).absolute() == Path(jsonl).absolute():
        raise ConfigError(f"--conll and --jsonl name the same file ({conll}): give two files")
    counts = ExportCounts()
    with contextlib.ExitStack() as files:
        conll_out = files.enter_context(atomic_writer(conll)) if conll is not None else None
        jsonl_out = files.enter_context(atomic_writer(jsonl)) if jsonl is not None else None
        for sentence in reviewed_sentences(store, counts):
            if conll_out is not None:
                conll_out.write(conll_block(sentence))
            if jsonl_out is not None:
                jsonl_out.write(training_record(sentence).to_json_line() + "\n")
    return counts


def conll_block(sentence: ReviewedSentence) -> str:
    """One sentence as CoNLL: a token and its tag a line, then the blank line that ends it."""
    return (
        "".join(f"{token} {tag}\n" for token, tag in zip(sentence.item.tokens, sentence.tags, strict=True))
        + "\n"
    )


def training_record(sentence: ReviewedSentence) -> TrainingRecord:
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
