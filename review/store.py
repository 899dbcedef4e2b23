"""The review database as the review works on it: the project, the sentences, their reviewers'
decisions. SQLAlchemy over SQLite by default (one file, WAL, every decision committed and fsynced
before it is acknowledged) or PostgreSQL for a team (``postgresql+psycopg://...``).

:class:`ReviewStore` is the one door: the queue and its leases live in :mod:`nerd.review.queue`, the
rules of a decision in :mod:`nerd.review.decisions`; both work inside the store's transactions.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select, text, update

from nerd.review import decisions, queue
from nerd.review.database import Database, database_url, sqlite_path
from nerd.review.errors import NotAReviewDatabase, ReviewStoreError
from nerd.review.events import Decision, as_decision, now
from nerd.review.schema import check_current, refuse_foreign_file, upgrade
from nerd.review.tables import DecisionRow, ItemRow, ProjectRow, SpanList, UserRow

__all__ = ["Decision", "NewItem", "Order", "ReviewStore", "ReviewStoreError", "database_url", "item_key"]

Action = Literal["accept", "reject", "skip"]
Order = Literal["given", "uncertainty", "disagreement"]
FORMAT_VERSION = 2
# Seconds an item stays with the reviewer it was served to; renewed while they work on it.
LEASE_S = 600


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
class Project:
    labels: list[str]
    definitions: dict[str, str]
    session_key: str


def item_key(tokens: Sequence[str]) -> str:
    """The identity of a sentence: its tokens, exactly.

    >>> item_key(["a", "b"]) == item_key(("a", "b")) != item_key(["a b"])
    True
    """
    return hashlib.sha256("\x1f".join(tokens).encode("utf-8")).hexdigest()


class ReviewStore:
    """One review database. ``create``: make the file when it is not there (``nerd review init``);
    otherwise a missing file is an error and nothing is created."""

    def __init__(self, db: str | Path, *, create: bool = False) -> None:
        if (path := sqlite_path(db)) is not None:
            # Before the engines' pragmas touch it (WAL mode is a write to the file's header).
            refuse_foreign_file(path)
        self.database = Database(db, create=create)
        self.where = self.database.where
        self.url = self.database.url
        self._project: Project | None = None

    # -- the project ---------------------------------------------------------------------------------

    def create(self, labels: Sequence[str], definitions: dict[str, str] | None = None) -> None:
        """Make the tables (or bring an older review up to date) and record the label set.

        Raises:
            NotAReviewDatabase: another program's database; nothing is written to it.
            ReviewStoreError: a review of another label set, or one that cannot be written.
        """
        upgrade(self.database)
        with self.database.writing() as session:
            project = session.get(ProjectRow, 1)
            if project is None:
                session.add(
                    ProjectRow(
                        id=1,
                        format_version=FORMAT_VERSION,
                        labels=list(labels),
                        definitions=dict(definitions or {}),
                        created=now(),
                        session_key=secrets.token_hex(32),
                        open_items=0,
                        item_total=0,
                    )
                )
            elif list(project.labels) != list(labels):
                raise ReviewStoreError(
                    f"{self.where}: made for the labels {', '.join(project.labels)}, not "
                    f"{', '.join(labels)}: use another database for another label set"
                )
            elif definitions and project.definitions != definitions:
                project.definitions = dict(definitions)
        self._project = None

    def project(self) -> Project:
        """The label set, its definitions and the session key (read once).

        Raises:
            NotAReviewDatabase, OutdatedDatabase, NoDatabase, DatabaseUnreachable.
        """
        if self._project is None:
            check_current(self.database)
            with self.database.reading() as session:
                row = session.get(ProjectRow, 1)
                if row is None:
                    raise NotAReviewDatabase(
                        f"{self.where}: not a review database: make one with nerd review init"
                    )
                self._project = Project(list(row.labels), dict(row.definitions or {}), row.session_key or "")
        return self._project

    def labels(self) -> list[str]:
        return self.project().labels

    def open_for_serving(self) -> Project:
        """Check the database and remember its file, so that a replaced file refuses writes."""
        project = self.project()
        self.database.remember_file()
        return project

    def checkpoint(self) -> None:
        """Fold SQLite's WAL into the database file, so that the .db alone holds every decision."""
        if self.database.dialect != "sqlite":
            return
        # Readers' snapshots would hold the WAL; and the pragma must run outside a transaction, so on
        # the driver's own connection (SQLAlchemy would begin one first).
        self.database.reader.dispose()
        connection = self.database.writer.raw_connection()
        try:
            busy, _, _ = connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            connection.close()
        if busy:
            raise ReviewStoreError(f"{self.where}: the WAL could not be folded in (a reader held it)")

    def close(self) -> None:
        self.database.dispose()

    # -- items -----------------------------------------------------------------------------------------

    def add_items(self, items: Sequence[NewItem], *, overlap_every: int = 0) -> tuple[int, int]:
        """Add sentences in order; one already there is kept once. ``overlap_every`` N > 0 gives every
        Nth new item to two reviewers. Returns (added, duplicates)."""
        added = duplicates = 0
        with self.database.writing() as session:
            known = set(session.scalars(select(ItemRow.key)))
            position = session.scalar(select(func.coalesce(func.max(ItemRow.position), 0))) or 0
            rows = []
            for item in items:
                key = item_key(item.tokens)
                if key in known:
                    duplicates += 1
                    continue
                known.add(key)
                position += 1
                added += 1
                overlap = bool(overlap_every) and added % overlap_every == 0
                rows.append(
                    {
                        "key": key,
                        "position": position,
                        "tokens": list(item.tokens),
                        "source": item.source[:1000],
                        "teacher": item.teacher,
                        "teacher_provenance": item.teacher_provenance,
                        "model": item.model,
                        "uncertainty": item.uncertainty,
                        "disagreement": item.disagreement,
                        "overlap": overlap,
                        "open_slots": 2 if overlap else 1,
                        "conflict": False,
                    }
                )
            # Bulk inserts: 100,000 sentences in seconds, not the ORM's minutes.
            for start in range(0, len(rows), 5000):
                session.execute(ItemRow.__table__.insert(), rows[start : start + 5000])
            session.execute(
                update(ProjectRow)
                .where(ProjectRow.id == 1)
                .values(open_items=ProjectRow.open_items + added, item_total=ProjectRow.item_total + added)
            )
        if added:
            self.analyze()
        return added, duplicates

    def analyze(self) -> None:
        """Fresh planner statistics after a bulk change: PostgreSQL otherwise plans the queue's counts
        as seq scans until autovacuum comes by (75 ms instead of 2 ms at 100,000 items)."""
        with self.database.writer.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()

    def item(self, item_id: int) -> ItemRow | None:
        with self.database.reading() as session:
            row = session.get(ItemRow, item_id)
            if row is not None:
                session.expunge(row)
            return row

    def item_count(self) -> int:
        with self.database.reading() as session:
            return session.scalar(select(func.count()).select_from(ItemRow)) or 0

    def items(self) -> list[ItemRow]:
        return list(self.iter_items())

    def iter_items(self, batch: int = 2000) -> Iterator[ItemRow]:
        """Every item in queue order, read in batches (an export of 100,000 holds one batch at a time)."""
        last = 0
        while True:
            with self.database.reading() as session:
                rows = list(
                    session.scalars(
                        select(ItemRow).where(ItemRow.position > last).order_by(ItemRow.position).limit(batch)
                    )
                )
                session.expunge_all()
            if not rows:
                return
            yield from rows
            last = rows[-1].position

    def decisions(self, *, item_id: int | None = None, reviewer: str | None = None) -> list[Decision]:
        """Decisions in the order they were made (all, or one item's, or one reviewer's)."""
        query = select(DecisionRow).order_by(DecisionRow.id)
        if item_id is not None:
            query = query.where(DecisionRow.item_id == item_id)
        if reviewer is not None:
            query = query.where(DecisionRow.reviewer == reviewer)
        with self.database.reading() as session:
            return [as_decision(row) for row in session.scalars(query)]

    def standing(self, item_ids: Sequence[int] | None = None) -> dict[int, dict[str, Decision]]:
        """Each item's standing decisions, by reviewer (all items, or those given)."""
        return queue.standing(self.database, item_ids)

    def settlements(self, ids: Sequence[int]) -> dict[int, Decision]:
        """Settlement decisions by id."""
        if not ids:
            return {}
        with self.database.reading() as session:
            rows = session.scalars(select(DecisionRow).where(DecisionRow.id.in_(list(ids))))
            return {row.id: as_decision(row) for row in rows}

    def state(self) -> dict[int, dict[str, Decision]]:
        return self.standing()

    # -- decisions -------------------------------------------------------------------------------------

    def decide(
        self,
        item_id: int,
        reviewer: str,
        action: Action,
        spans: SpanList | None = None,
        *,
        client_id: str | None = None,
    ) -> tuple[Decision, bool]:
        """Record one decision, committed before this returns. Returns it and whether it is new (a
        ``client_id`` seen before returns the decision first recorded with it).

        Raises:
            NoSuchItem, BadSpans, LeasedToSomeoneElse, AlreadyDecided; ReviewStoreError.
        """
        with self.database.writing() as session:
            return decisions.decide(session, self.labels(), item_id, reviewer, action, spans, client_id)

    def undo(self, decision_id: int, reviewer: str) -> Decision:
        """Take back one of the reviewer's decisions (their standing one on its item, or a settlement).

        Raises:
            NoSuchDecision, NothingToUndo, AccessDenied.
        """
        with self.database.writing() as session:
            return decisions.undo(session, decision_id, reviewer)

    def undo_last(self, item_id: int, reviewer: str) -> Decision:
        """Take back the reviewer's standing decision on the item."""
        with self.database.writing() as session:
            return decisions.undo_last(session, item_id, reviewer)

    def settle(
        self, item_id: int, adjudicator: str, spans: SpanList | None, *, client_id: str | None = None
    ) -> tuple[Decision, bool]:
        """An adjudicator's answer to a conflict: these spans, or None to reject the sentence.

        Raises:
            NoSuchItem, NotAConflict, BadSpans.
        """
        with self.database.writing() as session:
            return decisions.settle(session, self.labels(), item_id, adjudicator, spans, client_id)

    def current(self, item_id: int, reviewer: str) -> Decision | None:
        """What ``reviewer`` says about the item now: the last decision no undo took back."""
        return self.standing([item_id]).get(item_id, {}).get(reviewer)

    # -- the queue -------------------------------------------------------------------------------------

    def next_item(
        self, reviewer: str, order: Order = "given", lease_s: int = LEASE_S
    ) -> tuple[ItemRow, int] | None:
        """The item this reviewer works on now, leased to them, and the lease's expiry: the one they
        hold, else the next in the queue no one else holds; None when nothing is left."""
        with self.database.writing(durable=False) as session:
            return queue.next_item(session, self.database.dialect, reviewer, order, lease_s)

    def renew(self, item_id: int, reviewer: str, lease_s: int = LEASE_S) -> int:
        """Extend the reviewer's lease of an item; returns its new expiry (seconds since the epoch)."""
        with self.database.writing(durable=False) as session:
            return queue.renew(session, item_id, reviewer, lease_s)

    def queue(self, reviewer: str, order: Order = "given", limit: int | None = None) -> list[int]:
        """The items this reviewer could be served next, without leasing any (for scripts and tests)."""
        with self.database.reading() as session:
            return queue.queue_ids(session, reviewer, order, limit)

    def progress(self, reviewer: str) -> queue.Progress:
        return queue.progress(self.database.read_one(queue.PROGRESS, {"reviewer": reviewer}), reviewer)

    def history(
        self, reviewer: str, *, search: str = "", limit: int = 50, before: int | None = None
    ) -> list[tuple[Decision, ItemRow]]:
        with self.database.reading() as session:
            return queue.history(session, reviewer, search=search, limit=limit, before=before)

    def conflicts(self, *, settled: bool = False, limit: int = 50, after: int = 0) -> list[queue.Conflict]:
        with self.database.reading() as session:
            return queue.conflicts(session, settled=settled, limit=limit, after=after)

    # -- users -----------------------------------------------------------------------------------------

    def has_users(self) -> bool:
        with self.database.reading() as session:
            return session.scalar(select(UserRow.id).limit(1)) is not None

    def ping(self) -> None:
        with self.database.reading() as session:
            session.execute(text("SELECT 1"))
