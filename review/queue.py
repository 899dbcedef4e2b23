"""Who is served what: the queue read in SQL from the items' open slots and the standing decisions
(indexed; nothing replays events), the lease that keeps an item with one reviewer, each reviewer's
progress and history, and the conflicts an adjudicator settles."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text
from sqlalchemy.orm import Session, aliased

from nerd.review.database import Database
from nerd.review.errors import LeasedToSomeoneElse, NoSuchItem
from nerd.review.events import DECIDING, Decision, as_decision
from nerd.review.tables import OPEN, CurrentRow, DecisionRow, ItemRow, LeaseRow, ProjectRow

# The PostgreSQL advisory lock that makes serving the next item one step at a time ("nerd" in ASCII).
QUEUE_LOCK = 0x6E657264

ORDERS: dict[str, tuple[Any, ...]] = {
    "given": (ItemRow.position,),
    "uncertainty": (ItemRow.uncertainty.desc(), ItemRow.position),
    "disagreement": (ItemRow.disagreement.desc(), ItemRow.uncertainty.desc(), ItemRow.position),
}


@dataclass(frozen=True)
class Progress:
    reviewer: str
    done: int  # items this reviewer accepted or rejected
    remaining: int  # open items they have not decided
    total: int
    per_hour: float | None


@dataclass(frozen=True)
class Conflict:
    item: ItemRow
    versions: dict[str, Decision]  # each reviewer's standing accept or reject
    settlement: Decision | None


def standing(database: Database, item_ids: Sequence[int] | None = None) -> dict[int, dict[str, Decision]]:
    query = select(DecisionRow).join(CurrentRow, CurrentRow.decision_id == DecisionRow.id)
    if item_ids is not None:
        query = query.where(CurrentRow.item_id.in_(list(item_ids)))
    found: dict[int, dict[str, Decision]] = {}
    with database.reading() as session:
        for row in session.scalars(query):
            found.setdefault(row.item_id, {})[row.reviewer] = as_decision(row)
    return found


def _held_by_others(reviewer: Any, now: Any) -> Any:
    """How many other reviewers hold the item now (a correlated count over its leases)."""
    return (
        select(func.count())
        .select_from(LeaseRow)
        .where(LeaseRow.item_id == ItemRow.id, LeaseRow.reviewer != reviewer, LeaseRow.expires > now)
        .scalar_subquery()
    )


def _open_to(reviewer: Any, now: Any) -> list[Any]:
    """The conditions of an item this reviewer may be served: still open, not decided by them, and
    not held by as many others as it has slots."""
    mine = (
        select(CurrentRow.item_id)
        .where(CurrentRow.item_id == ItemRow.id, CurrentRow.reviewer == reviewer)
        .exists()
    )
    return [OPEN, ~mine, _held_by_others(reviewer, now) < ItemRow.open_slots]


def _skipped_by(reviewer: Any, now: Any) -> list[Any]:
    """The conditions of an item this reviewer skipped and may be served again."""
    skipped = (
        select(CurrentRow.item_id)
        .where(CurrentRow.item_id == ItemRow.id, CurrentRow.reviewer == reviewer, CurrentRow.action == "skip")
        .exists()
    )
    return [OPEN, skipped, _held_by_others(reviewer, now) < ItemRow.open_slots]


# Serving the next item runs on every key a reviewer presses: its statements are built once, with the
# reviewer and the clock as parameters, so a request only binds them.
_REVIEWER, _NOW = bindparam("reviewer"), bindparam("now")
# The item a reviewer held, if it is still theirs to decide (open, not decided by them).
_STILL_OPEN_TO = select(ItemRow).where(ItemRow.id == bindparam("item_id"), *_open_to(_REVIEWER, _NOW)[:2])
_NEXT = {
    order: select(ItemRow).where(*_open_to(_REVIEWER, _NOW)).order_by(*sort).limit(1)
    for order, sort in ORDERS.items()
}
_SKIPPED = select(ItemRow).where(*_skipped_by(_REVIEWER, _NOW)).order_by(ItemRow.position).limit(1)
_LEASES = LeaseRow.__table__
_DROP_LEASES = delete(_LEASES).where(_LEASES.c.reviewer == _REVIEWER)
_DROP_LEASES_SAYING = _DROP_LEASES.returning(_LEASES.c.item_id, _LEASES.c.expires)
_TAKE_LEASE = insert(_LEASES)
_QUEUE_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def _chosen_and_leased(choose: Any) -> Any:
    """PostgreSQL: the item ``choose`` picks, leased to the reviewer by the same statement (a
    data-modifying WITH), so the queue lock is held for one round trip rather than two."""
    chosen = choose.cte("chosen")
    take = insert(_LEASES).from_select(
        ["item_id", "reviewer", "expires"], select(chosen.c.id, _REVIEWER, bindparam("expires"))
    )
    return select(aliased(ItemRow, chosen)).add_cte(take.cte("taken"))


_NEXT_LEASED = {order: _chosen_and_leased(statement) for order, statement in _NEXT.items()}
_SKIPPED_LEASED = _chosen_and_leased(_SKIPPED)


def lease(session: Session, item_id: int, reviewer: str, lease_s: int) -> int:
    """Lease the item to the reviewer (theirs alone of their leases); returns the expiry."""
    expires = int(time.time()) + lease_s
    session.execute(_DROP_LEASES, {"reviewer": reviewer})
    session.execute(_TAKE_LEASE, {"item_id": item_id, "reviewer": reviewer, "expires": expires})
    return expires


def renew(session: Session, item_id: int, reviewer: str, lease_s: int) -> int:
    """Extend the reviewer's lease, or take one on an item no one else holds all the slots of."""
    item = session.get(ItemRow, item_id)
    if item is None:
        raise NoSuchItem(f"no item {item_id}")
    if session.get(LeaseRow, (item_id, reviewer)) is None:
        holders = session.scalars(
            select(LeaseRow.reviewer).where(
                LeaseRow.item_id == item_id,
                LeaseRow.reviewer != reviewer,
                LeaseRow.expires > int(time.time()),
            )
        ).all()
        if holders and len(holders) >= item.open_slots:
            raise LeasedToSomeoneElse(f"item {item_id} is being reviewed by {', '.join(sorted(holders))}")
    return lease(session, item_id, reviewer, lease_s)


def next_item(
    session: Session, dialect: str, reviewer: str, order: str, lease_s: int
) -> tuple[ItemRow, int] | None:
    keys = {"reviewer": reviewer, "now": int(time.time())}
    # The reviewer's lease is dropped and read in one statement (a reviewer holds at most one): the
    # item it held comes back first while it is unexpired and still theirs; a new lease is taken below.
    # Dropping it first changes no other query: an item's holders are counted without the reviewer.
    held = session.execute(_DROP_LEASES_SAYING, {"reviewer": reviewer}).first()
    if held is not None and held.expires > keys["now"]:
        item = session.scalar(_STILL_OPEN_TO, {**keys, "item_id": held.item_id})
        if item is not None:
            # Their own item again: no one else's count of its holders changes, so no queue lock.
            return _leased(session, item, reviewer, lease_s)
    if dialect == "postgresql":
        # Choosing and leasing a new item is one step at a time, as SQLite's write lock makes it: a row
        # lock (FOR UPDATE SKIP LOCKED) is not enough, since a query that began before another
        # reviewer's lease was committed does not see that lease once the row is free again. The lock
        # is held to the commit, so what runs under it is one statement: choose and lease together.
        session.execute(_QUEUE_LOCK, {"key": QUEUE_LOCK})
        expires = int(time.time()) + lease_s
        for chosen in (_NEXT_LEASED[order], _SKIPPED_LEASED):
            item = session.scalar(chosen, {**keys, "expires": expires})
            if item is not None:
                session.expunge(item)
                return item, expires
        return None
    for statement in (_NEXT[order], _SKIPPED):
        item = session.scalar(statement, keys)
        if item is not None:
            return _leased(session, item, reviewer, lease_s)
    return None


def _leased(session: Session, item: ItemRow, reviewer: str, lease_s: int) -> tuple[ItemRow, int]:
    expires = int(time.time()) + lease_s
    session.execute(_TAKE_LEASE, {"item_id": item.id, "reviewer": reviewer, "expires": expires})
    session.expunge(item)
    return item, expires


def queue_ids(session: Session, reviewer: str, order: str, limit: int | None) -> list[int]:
    now = int(time.time())
    fresh = select(ItemRow.id).where(*_open_to(reviewer, now)).order_by(*ORDERS[order])
    skipped = select(ItemRow.id).where(*_skipped_by(reviewer, now)).order_by(ItemRow.position)
    if limit is not None:
        fresh, skipped = fresh.limit(limit), skipped.limit(limit)
    ids = list(session.scalars(fresh)) + list(session.scalars(skipped))
    return ids[:limit] if limit is not None else ids


# A reviewer's progress is one statement (one round trip to PostgreSQL), asked after every key.
PROGRESS = select(
    select(func.count())
    .select_from(CurrentRow)
    .where(CurrentRow.reviewer == _REVIEWER, CurrentRow.action.in_(DECIDING))
    .scalar_subquery(),
    ProjectRow.open_items,
    ProjectRow.item_total,
    # Open items this reviewer already decided (their half of an overlap item): few, by an index.
    select(func.count())
    .select_from(CurrentRow)
    .join(ItemRow, ItemRow.id == CurrentRow.item_id)
    .where(CurrentRow.reviewer == _REVIEWER, CurrentRow.action.in_(DECIDING), OPEN)
    .scalar_subquery(),
    *(
        select(aggregate)
        .where(DecisionRow.reviewer == _REVIEWER, DecisionRow.action != "undo")
        .scalar_subquery()
        for aggregate in (func.count(), func.min(DecisionRow.at), func.max(DecisionRow.at))
    ),
)


def progress(row: Any, reviewer: str) -> Progress:
    """The reviewer's progress from the row :data:`PROGRESS` reads."""
    done, open_items, total, mine_open, count, first, last = row
    return Progress(reviewer, done or 0, open_items - (mine_open or 0), total, _per_hour(count, first, last))


def _per_hour(count: int, first: str | None, last: str | None) -> float | None:
    """Decisions an hour between a reviewer's first and last (None below two decisions)."""
    from datetime import datetime

    if count < 2 or first is None or last is None:
        return None
    hours = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds() / 3600
    return round((count - 1) / hours, 1) if hours > 0 else None


def history(
    session: Session, reviewer: str, *, search: str, limit: int, before: int | None
) -> list[tuple[Decision, ItemRow]]:
    """The reviewer's standing decisions, newest first, optionally only sentences holding ``search``
    (case-insensitive, any script); ``before``: a decision id, for the next page."""
    needle = search.casefold().strip()
    found: list[tuple[Decision, ItemRow]] = []
    cursor = before
    while len(found) < limit:
        query = (
            select(DecisionRow, ItemRow)
            .join(CurrentRow, CurrentRow.decision_id == DecisionRow.id)
            .join(ItemRow, ItemRow.id == DecisionRow.item_id)
            .where(CurrentRow.reviewer == reviewer)
            .order_by(DecisionRow.id.desc())
            .limit(500)
        )
        if cursor is not None:
            query = query.where(DecisionRow.id < cursor)
        rows = session.execute(query).all()
        if not rows:
            break
        for decision, item in rows:
            if not needle or needle in " ".join(item.tokens).casefold():
                found.append((as_decision(decision), item))
                if len(found) == limit:
                    break
        cursor = rows[-1][0].id
    session.expunge_all()
    return found


def conflicts(session: Session, *, settled: bool, limit: int, after: int) -> list[Conflict]:
    """Items whose reviewers disagree, open ones (or settled ones) in queue order after ``after``."""
    query = select(ItemRow).where(ItemRow.position > after).order_by(ItemRow.position).limit(limit)
    if settled:
        query = query.where(ItemRow.settlement_id.is_not(None))
    else:
        query = query.where(ItemRow.conflict.is_(True), ItemRow.settlement_id.is_(None))
    items = list(session.scalars(query))
    if not items:
        return []
    ids = [item.id for item in items]
    versions: dict[int, dict[str, Decision]] = {}
    rows = session.scalars(
        select(DecisionRow)
        .join(CurrentRow, CurrentRow.decision_id == DecisionRow.id)
        .where(CurrentRow.item_id.in_(ids), CurrentRow.action.in_(DECIDING))
    )
    for row in rows:
        versions.setdefault(row.item_id, {})[row.reviewer] = as_decision(row)
    settlements = {
        row.item_id: as_decision(row)
        for row in session.scalars(
            select(DecisionRow).where(DecisionRow.id.in_([i.settlement_id for i in items if i.settlement_id]))
        )
    }
    session.expunge_all()
    return [Conflict(item, versions.get(item.id, {}), settlements.get(item.id)) for item in items]
