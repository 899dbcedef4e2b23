"""A decision as the rest of nerd sees it (a frozen value, not a database row), and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from nerd.review.tables import DecisionRow, SpanList

# What a reviewer can say about a sentence; "settle" is an adjudicator's, "undo" takes one back.
DECIDING = ("accept", "reject")


@dataclass(frozen=True)
class Decision:
    id: int
    item_id: int
    reviewer: str
    at: str
    action: str
    spans: SpanList | None
    undoes: int | None
    client_id: str | None = None


def as_decision(row: DecisionRow) -> Decision:
    return Decision(
        row.id, row.item_id, row.reviewer, row.at, row.action, row.spans, row.undoes, row.client_id
    )


def now() -> str:
    """UTC, ISO 8601 to the millisecond: sorts as it reads."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
