"""The review database's tables (SQLAlchemy ORM). Their history is in ``migrations/``: a change here
is a new Alembic revision there.

Decisions are events, never updated in place: who decided what, when, on which suggestions; an undo is
one more event naming the decision it takes back (at most one undo per decision: a unique index, so two
undos sent at once cannot both be recorded). ``current`` holds each (item, reviewer)'s standing decision
and ``items.open_slots`` how many more reviewers an item needs, both kept in the transaction that
records a decision, so the queue, progress and export read indexed rows instead of replaying events.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The queue's condition, written out (not a bound parameter) so that both databases use the partial
# indexes made with it.
OPEN = text("open_slots > 0")

# A span as stored and sent: [start token, end token (exclusive), label] (+ confidence for a model's).
SpanList = list[list[Any]]


class Base(DeclarativeBase):
    pass


class ProjectRow(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format_version: Mapped[int] = mapped_column(Integer)
    labels: Mapped[list[str]] = mapped_column(JSON)
    created: Mapped[str] = mapped_column(String(40))
    # {"LABEL": "definition"}: the guideline the page shows.
    definitions: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    # Signs session cookies: a cookie of one database opens no other. Never sent to a browser.
    session_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # How many items are still open, and how many there are: kept with each decision, so that a
    # reviewer's progress reads two numbers instead of counting 100,000 rows after every key.
    open_items: Mapped[int] = mapped_column(Integer, default=0)
    item_total: Mapped[int] = mapped_column(Integer, default=0)


class ItemRow(Base):
    __tablename__ = "items"
    __table_args__ = (
        # Partial indexes over the open items only, in each queue order: the next item is the first
        # entry (or one of the first few, past other reviewers' leases), however many are decided.
        Index("ix_items_open_position", "position", sqlite_where=OPEN, postgresql_where=OPEN),
        Index(
            "ix_items_open_uncertainty",
            text("uncertainty DESC"),
            "position",
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        Index(
            "ix_items_open_disagreement",
            text("disagreement DESC"),
            text("uncertainty DESC"),
            "position",
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        Index("ix_items_conflict", "conflict"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # sha256 of the tokens: a sentence is reviewed once however often the inputs hold it.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    tokens: Mapped[list[str]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(1000))
    teacher: Mapped[SpanList | None] = mapped_column(JSON, nullable=True)
    teacher_provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    model: Mapped[SpanList | None] = mapped_column(JSON, nullable=True)
    uncertainty: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    disagreement: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    # Given to two reviewers, so that their agreement can be measured.
    overlap: Mapped[bool] = mapped_column(Boolean, default=False)
    # Reviewers still needed: 1 (2 for an overlap item) less the accepts and rejects standing now.
    open_slots: Mapped[int] = mapped_column(Integer, default=1)
    # Reviewers' standing decisions differ (a reject beside an accept, or other spans).
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    # An adjudicator's settlement (a decision with action "settle"), which the export takes.
    settlement_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("reviewer", "client_id", name="uq_decisions_client"),
        UniqueConstraint("undoes", name="uq_decisions_undoes"),
        Index("ix_decisions_item_reviewer", "item_id", "reviewer"),
        Index("ix_decisions_reviewer_id", "reviewer", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(10))
    spans: Mapped[SpanList | None] = mapped_column(JSON, nullable=True)
    # What the reviewer was shown when deciding: the teacher's and the model's spans.
    suggested: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    undoes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Made by the client: a decision sent again (after a dropped connection) is recorded once.
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CurrentRow(Base):
    """What each reviewer says about an item now: their last decision that no undo took back."""

    __tablename__ = "current"
    __table_args__ = (Index("ix_current_reviewer_action", "reviewer", "action"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(100), primary_key=True)
    decision_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))


class LeaseRow(Base):
    """An item served to a reviewer: no one else is served it until the lease expires."""

    __tablename__ = "leases"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    # Seconds since the epoch (UTC): compared in SQL, the same on SQLite and PostgreSQL.
    expires: Mapped[int] = mapped_column(BigInteger)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    # argon2id (argon2-cffi), None for a user who signs in through the trusted proxy only.
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    # sha256 of the personal API token: the token itself is shown once and never stored.
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[str] = mapped_column(String(40))
