"""The review database: sentences to review, their suggestions, and every decision ever made on them.

SQLAlchemy over SQLite by default (one file, WAL, every decision committed and fsynced before it is
acknowledged) or PostgreSQL for a team (``postgresql+psycopg://...``). Decisions are events, never
updated in place: who decided what, when, on which suggestions; an undo is one more event naming the
decision it takes back. What a reviewer currently says about an item is the last of their decisions
that no undo took back.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from nerd.errors import NerdError

FORMAT_VERSION = 1
Action = Literal["accept", "reject", "skip", "undo"]
Order = Literal["given", "uncertainty", "disagreement"]
# A span as stored and sent: [start token, end token (exclusive), label] (+ confidence for a model's).
SpanList = list[list[Any]]


class ReviewStoreError(NerdError):
    """A review database that cannot be used: unreachable, corrupted, locked, or made for other labels."""


class Base(DeclarativeBase):
    pass


class ProjectRow(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format_version: Mapped[int] = mapped_column(Integer)
    labels: Mapped[list[str]] = mapped_column(JSON)
    created: Mapped[str] = mapped_column(String(40))


class ItemRow(Base):
    __tablename__ = "items"

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


class DecisionRow(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(10))
    spans: Mapped[SpanList | None] = mapped_column(JSON, nullable=True)
    # What the reviewer was shown when deciding: the teacher's and the model's spans.
    suggested: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    undoes: Mapped[int | None] = mapped_column(Integer, nullable=True)


@dataclass(frozen=True)
class NewItem:
    """A sentence to add, with what the teacher and the model suggest for it."""

    tokens: tuple[str, ...]
    source: str
    teacher: SpanList | None = None
    teacher_provenance: dict[str, Any] | None = None
    model: SpanList | None = None
    uncertainty: float = 0.0
    disagreement: float = 0.0


@dataclass(frozen=True)
class Decision:
    id: int
    item_id: int
    reviewer: str
    at: str
    action: str
    spans: SpanList | None
    undoes: int | None


def item_key(tokens: Sequence[str]) -> str:
    """The identity of a sentence: its tokens, exactly.

    >>> item_key(["a", "b"]) == item_key(("a", "b")) != item_key(["a b"])
    True
    """
    return hashlib.sha256("\x1f".join(tokens).encode("utf-8")).hexdigest()


def database_url(db: str | Path) -> str:
    """A SQLAlchemy URL: given as one, or a file path for SQLite.

    >>> database_url("review.db")
    'sqlite:///review.db'
    >>> database_url("postgresql://host/db")
    'postgresql+psycopg://host/db'
    """
    text = str(db)
    if text.startswith("postgresql://"):
        return "postgresql+psycopg://" + text.removeprefix("postgresql://")
    if "://" in text:
        return text
    return f"sqlite:///{text}"


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    # WAL: readers never block the writer; FULL: a committed decision is on disk before it is answered.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ReviewStore:
    """One review database."""

    def __init__(self, db: str | Path) -> None:
        self.url = database_url(db)
        self.where = str(db) if "://" not in str(db) else self.url.split("@")[-1]
        try:
            self.engine: Engine = create_engine(self.url, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as error:
            raise ReviewStoreError(f"{self.where}: cannot open the database: {error}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose database errors become one clear line."""
        try:
            with Session(self.engine) as session:
                yield session
        except OperationalError as error:
            reason = str(error.orig) if error.orig is not None else str(error)
            if "locked" in reason:
                reason += " (another process holds a write lock; try again, or stop it)"
            raise ReviewStoreError(f"{self.where}: {reason}") from None
        except DatabaseError as error:
            reason = str(error.orig) if error.orig is not None else str(error)
            raise ReviewStoreError(f"{self.where}: not a usable review database ({reason})") from None

    def create(self, labels: Sequence[str]) -> None:
        """Make the tables and record the label set (a database is made for one label set).

        Raises:
            ReviewStoreError: the database exists for another label set, or cannot be written.
        """
        try:
            Base.metadata.create_all(self.engine)
        except DatabaseError as error:
            raise ReviewStoreError(f"{self.where}: not a usable review database ({error.orig})") from None
        with self.session() as session:
            project = session.get(ProjectRow, 1)
            if project is None:
                session.add(
                    ProjectRow(id=1, format_version=FORMAT_VERSION, labels=list(labels), created=_now())
                )
                session.commit()
            elif list(project.labels) != list(labels):
                raise ReviewStoreError(
                    f"{self.where}: made for the labels {', '.join(project.labels)}, not "
                    f"{', '.join(labels)}: use another database for another label set"
                )

    def labels(self) -> list[str]:
        """The label set the database was made for.

        Raises:
            ReviewStoreError: not a review database (no project), or an unreadable one.
        """
        with self.session() as session:
            try:
                project = session.get(ProjectRow, 1)
            except OperationalError:
                project = None
            if project is None:
                raise ReviewStoreError(f"{self.where}: not a review database: make one with nerd review init")
            if project.format_version != FORMAT_VERSION:
                raise ReviewStoreError(
                    f"{self.where}: format {project.format_version}, this nerd reads {FORMAT_VERSION}"
                )
            return list(project.labels)

    def add_items(self, items: Sequence[NewItem], *, overlap_every: int = 0) -> tuple[int, int]:
        """Add sentences in order; one already there is kept once. ``overlap_every`` N > 0 gives every
        Nth new item to two reviewers. Returns (added, duplicates)."""
        added = duplicates = 0
        with self.session() as session:
            known = set(session.scalars(select(ItemRow.key)))
            position = session.scalar(select(func.coalesce(func.max(ItemRow.position), 0))) or 0
            for item in items:
                key = item_key(item.tokens)
                if key in known:
                    duplicates += 1
                    continue
                known.add(key)
                position += 1
                added += 1
                session.add(
                    ItemRow(
                        key=key,
                        position=position,
                        tokens=list(item.tokens),
                        source=item.source[:1000],
                        teacher=item.teacher,
                        teacher_provenance=item.teacher_provenance,
                        model=item.model,
                        uncertainty=item.uncertainty,
                        disagreement=item.disagreement,
                        overlap=bool(overlap_every) and added % overlap_every == 0,
                    )
                )
            session.commit()
        return added, duplicates

    def item(self, item_id: int) -> ItemRow | None:
        with self.session() as session:
            row = session.get(ItemRow, item_id)
            if row is not None:
                session.expunge(row)
            return row

    def item_count(self) -> int:
        with self.session() as session:
            return session.scalar(select(func.count()).select_from(ItemRow)) or 0

    def items(self) -> list[ItemRow]:
        with self.session() as session:
            rows = list(session.scalars(select(ItemRow).order_by(ItemRow.position)))
            session.expunge_all()
            return rows

    def decisions(self, *, item_id: int | None = None, reviewer: str | None = None) -> list[Decision]:
        """Decisions in the order they were made (all, or one item's, or one reviewer's)."""
        query = select(DecisionRow).order_by(DecisionRow.id)
        if item_id is not None:
            query = query.where(DecisionRow.item_id == item_id)
        if reviewer is not None:
            query = query.where(DecisionRow.reviewer == reviewer)
        with self.session() as session:
            return [_decision(row) for row in session.scalars(query)]

    def decide(
        self,
        item_id: int,
        reviewer: str,
        action: Action,
        spans: SpanList | None = None,
        suggested: dict[str, Any] | None = None,
    ) -> Decision:
        """Record one decision, committed before this returns (an undo names what it takes back).

        Raises:
            KeyError: no such item; LookupError: an undo with nothing of this reviewer's to take back.
        """
        with self.session() as session:
            if session.get(ItemRow, item_id) is None:
                raise KeyError(item_id)
            undoes = None
            if action == "undo":
                events = session.scalars(
                    select(DecisionRow)
                    .where(DecisionRow.item_id == item_id, DecisionRow.reviewer == reviewer)
                    .order_by(DecisionRow.id)
                ).all()
                active = active_decisions([_decision(row) for row in events])
                if not active:
                    raise LookupError(f"{reviewer} has no decision on item {item_id} to undo")
                undoes = active[-1].id
            row = DecisionRow(
                item_id=item_id,
                reviewer=reviewer,
                at=_now(),
                action=action,
                spans=spans if action == "accept" else None,
                suggested=suggested,
                undoes=undoes,
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError as error:
                raise ReviewStoreError(f"{self.where}: decision not recorded: {error.orig}") from None
            return _decision(row)

    def current(self, item_id: int, reviewer: str) -> Decision | None:
        """What ``reviewer`` says about the item now: the last decision no undo took back."""
        active = active_decisions(self.decisions(item_id=item_id, reviewer=reviewer))
        return active[-1] if active else None

    def state(self) -> dict[int, dict[str, Decision]]:
        """Every item's current decisions, by reviewer."""
        by_pair: dict[tuple[int, str], list[Decision]] = {}
        for decision in self.decisions():
            by_pair.setdefault((decision.item_id, decision.reviewer), []).append(decision)
        state: dict[int, dict[str, Decision]] = {}
        for (item_id, reviewer), events in by_pair.items():
            active = active_decisions(events)
            if active:
                state.setdefault(item_id, {})[reviewer] = active[-1]
        return state

    def queue(self, reviewer: str, order: Order = "given", limit: int | None = None) -> list[int]:
        """The items ``reviewer`` should see next: none they decided, none already decided by as many
        reviewers as it needs (two for an overlap item); items they skipped come after the rest."""
        state = self.state()
        sort = {
            "given": (ItemRow.position,),
            "uncertainty": (ItemRow.uncertainty.desc(), ItemRow.position),
            "disagreement": (ItemRow.disagreement.desc(), ItemRow.uncertainty.desc(), ItemRow.position),
        }[order]
        with self.session() as session:
            rows = session.execute(select(ItemRow.id, ItemRow.overlap).order_by(*sort)).all()
        fresh, skipped = [], []
        for item_id, overlap in rows:
            decided = state.get(item_id, {})
            mine = decided.get(reviewer)
            if mine is not None and mine.action != "skip":
                continue
            others = sum(
                1 for who, d in decided.items() if who != reviewer and d.action in ("accept", "reject")
            )
            if others >= (2 if overlap else 1):
                continue
            (skipped if mine is not None else fresh).append(item_id)
        ordered = fresh + skipped
        return ordered[:limit] if limit is not None else ordered


def _decision(row: DecisionRow) -> Decision:
    return Decision(row.id, row.item_id, row.reviewer, row.at, row.action, row.spans, row.undoes)


def active_decisions(events: Sequence[Decision]) -> list[Decision]:
    """The decisions of one reviewer on one item that no undo took back, in order."""
    undone = {event.undoes for event in events if event.action == "undo"}
    return [event for event in events if event.action != "undo" and event.id not in undone]
