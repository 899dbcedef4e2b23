"""The rules of a decision, inside the transaction that records it: the item exists, the spans fit
it, no one else holds it, it still needs this reviewer; then the event, the reviewer's standing
decision and the item's open slots and conflict flag, all in one commit."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nerd.review.errors import (
    AccessDenied,
    AlreadyDecided,
    BadSpans,
    LeasedToSomeoneElse,
    NoSuchDecision,
    NoSuchItem,
    NotAConflict,
    NothingToUndo,
    ReviewStoreError,
)
from nerd.review.events import DECIDING, Decision, as_decision, now
from nerd.review.tables import CurrentRow, DecisionRow, ItemRow, LeaseRow, ProjectRow, SpanList


def checked_spans(spans: Sequence[Any], length: int, labels: Sequence[str]) -> SpanList:
    """Spans within the sentence, of known labels, not overlapping, sorted; BadSpans names the first
    that is not. A span is [start, end, label] (or an object with those attributes).

    >>> checked_spans([[2, 3, "LOC"], [0, 1, "PER"]], 3, ["PER", "LOC"])
    [[0, 1, 'PER'], [2, 3, 'LOC']]
    """
    triples = [(s.start, s.end, s.label) if hasattr(s, "start") else tuple(s[:3]) for s in spans]
    taken: set[int] = set()
    checked: SpanList = []
    for index, (start, end, label) in enumerate(sorted(triples, key=lambda s: (s[0], s[1]))):
        if not (0 <= start < end <= length):
            raise BadSpans(f"spans[{index}]: tokens {start}-{end} are not within the {length} tokens")
        if label not in labels:
            raise BadSpans(f"spans[{index}]: label {label!r} is not one of {', '.join(labels)}")
        words = set(range(start, end))
        if words & taken:
            raise BadSpans(f"spans[{index}]: tokens {start}-{end} overlap another entity")
        taken |= words
        checked.append([start, end, label])
    return checked


# The statements of a decision, built once (an UPDATE's own parameters are named b_*, as SQLAlchemy
# reserves a column's name for its SET clause): each request then only binds its values (SQLAlchemy Core,
# not the ORM's unit of work: a decision is a handful of single-row statements, and building and
# flushing ORM objects for them cost more than the SQL itself).
_DECISIONS = DecisionRow.__table__
_CURRENT = CurrentRow.__table__
_LEASES = LeaseRow.__table__
_ITEMS = ItemRow.__table__
_ITEM = select(
    _ITEMS.c.id, _ITEMS.c.tokens, _ITEMS.c.overlap, _ITEMS.c.open_slots, _ITEMS.c.teacher, _ITEMS.c.model
).where(_ITEMS.c.id == bindparam("item_id"))
_BY_CLIENT_ID = select(_DECISIONS).where(
    _DECISIONS.c.reviewer == bindparam("reviewer"), _DECISIONS.c.client_id == bindparam("client_id")
)
# Every standing decision on the item, with its spans: who decided, whether it is this reviewer's turn,
# and (with the new decision) the item's open slots and conflict flag, in one read.
_ITEM_STANDING = (
    select(_CURRENT.c.reviewer, _CURRENT.c.action, _DECISIONS.c.spans)
    .join(_DECISIONS, _DECISIONS.c.id == _CURRENT.c.decision_id)
    .where(_CURRENT.c.item_id == bindparam("item_id"))
)
_LEASES_OF_ITEM = select(_LEASES.c.reviewer, _LEASES.c.expires).where(
    _LEASES.c.item_id == bindparam("item_id")
)
_STANDING_VERSIONS = (
    select(_DECISIONS.c.action, _DECISIONS.c.spans)
    .join(_CURRENT, _CURRENT.c.decision_id == _DECISIONS.c.id)
    .where(_CURRENT.c.item_id == bindparam("item_id"), _CURRENT.c.action.in_(DECIDING))
)
_ITEM_COUNTS = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("b_item_id"))
    .values(open_slots=bindparam("b_open_slots"), conflict=bindparam("b_conflict"))
)
_OPEN_ITEMS = (
    update(ProjectRow.__table__)
    .where(ProjectRow.__table__.c.id == 1)
    .values(open_items=ProjectRow.__table__.c.open_items + bindparam("change"))
)
# A new event and the reviewer's standing decision are one statement each on both databases: an
# insert that a unique index turns away returns no id (instead of a savepoint to roll back to), and
# the standing decision is an upsert.
_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_NEW_EVENT = {
    name: make(_DECISIONS).on_conflict_do_nothing().returning(_DECISIONS.c.id)
    for name, make in _DIALECT_INSERT.items()
}
_STAND = {
    name: make(_CURRENT).on_conflict_do_update(
        index_elements=[_CURRENT.c.item_id, _CURRENT.c.reviewer],
        set_={"decision_id": make(_CURRENT).excluded.decision_id, "action": make(_CURRENT).excluded.action},
    )
    for name, make in _DIALECT_INSERT.items()
}
_UNSTAND = delete(_CURRENT).where(
    _CURRENT.c.item_id == bindparam("item_id"), _CURRENT.c.reviewer == bindparam("reviewer")
)
_RELEASE = delete(_LEASES).where(
    _LEASES.c.item_id == bindparam("item_id"), _LEASES.c.reviewer == bindparam("reviewer")
)


def _item(session: Session, item_id: int, *, lock: bool = True) -> ItemRow:
    # FOR UPDATE on PostgreSQL (SQLite holds the whole database's write lock already): two decisions
    # on one item at once are taken one after the other, so open_slots is never counted twice.
    item = session.get(ItemRow, item_id, with_for_update=lock and session.bind.dialect.name != "sqlite")
    if item is None:
        raise NoSuchItem(f"no item {item_id}")
    return item


def _item_values(session: Session, item_id: int) -> Row[Any]:
    """What a decision reads of its item (locked on PostgreSQL, as :func:`_item`)."""
    query = _ITEM if session.bind.dialect.name == "sqlite" else _ITEM.with_for_update()
    item = session.execute(query, {"item_id": item_id}).one_or_none()
    if item is None:
        raise NoSuchItem(f"no item {item_id}")
    return item


def _by_client_id(session: Session, reviewer: str, client_id: str | None) -> Row[Any] | None:
    if client_id is None:
        return None
    return session.execute(_BY_CLIENT_ID, {"reviewer": reviewer, "client_id": client_id}).first()


def _check_turn(session: Session, item: Any, reviewer: str, standing: Sequence[Row[Any]]) -> None:
    """Refuse a decision on an item this reviewer may not decide now (``standing``: the item's
    standing decisions, as :data:`_ITEM_STANDING` reads them)."""
    if any(row.reviewer == reviewer and row.action in DECIDING for row in standing):
        return  # deciding again on one's own item (from the history) is always allowed
    others = [row.reviewer for row in standing if row.reviewer != reviewer and row.action in DECIDING]
    needed = 2 if item.overlap else 1
    if len(others) >= needed:
        raise AlreadyDecided(
            f"item {item.id} has the decisions it needs ({', '.join(sorted(others))}): it is not yours "
            "to decide now"
        )
    leases = session.execute(_LEASES_OF_ITEM, {"item_id": item.id}).all()
    now_s = int(time.time())
    holders = [holder for holder, expires in leases if holder != reviewer and expires > now_s]
    mine_leased = any(holder == reviewer for holder, _ in leases)  # expired or not, as renewing allows
    if not mine_leased and len(holders) >= needed - len(others):
        raise LeasedToSomeoneElse(
            f"item {item.id} is being reviewed by {', '.join(sorted(holders))}: ask for the next item instead"
        )


def _count_item(session: Session, item: Any, versions: Sequence[tuple[str, Any]]) -> None:
    """Write the item's open slots and conflict flag from its standing accept/reject ``versions``."""
    open_slots = (2 if item.overlap else 1) - len(versions)
    if (item.open_slots > 0) != (open_slots > 0):
        session.execute(_OPEN_ITEMS, {"change": -1 if item.open_slots > 0 else 1})
    distinct = {(action, tuple(tuple(span) for span in spans or [])) for action, spans in versions}
    session.execute(
        _ITEM_COUNTS, {"b_item_id": item.id, "b_open_slots": open_slots, "b_conflict": len(distinct) > 1}
    )
    if isinstance(item, ItemRow):  # keep a loaded row in step with what was written
        session.expire(item, ["open_slots", "conflict"])


def refresh_item(session: Session, item: Any) -> None:
    """Recount the item's open slots and whether its reviewers disagree, from the standing decisions."""
    _count_item(session, item, session.execute(_STANDING_VERSIONS, {"item_id": item.id}).all())


def _stand(session: Session, item_id: int, reviewer: str, decision: Any | None) -> None:
    """Make ``decision`` the reviewer's standing one on the item (None: they have none now)."""
    keys = {"item_id": item_id, "reviewer": reviewer}
    if decision is None:
        session.execute(_UNSTAND, keys)
        return
    upsert = _STAND[session.bind.dialect.name]
    session.execute(upsert, {**keys, "decision_id": decision.id, "action": decision.action})


def _record(session: Session, values: dict[str, Any]) -> Decision | None:
    """Insert the event; None when a unique index turns it away (a client id or an undo seen before)."""
    decision_id = session.execute(_NEW_EVENT[session.bind.dialect.name], values).scalar()
    if decision_id is None:
        return None
    return Decision(
        decision_id,
        values["item_id"],
        values["reviewer"],
        values["at"],
        values["action"],
        values.get("spans"),
        values.get("undoes"),
        values.get("client_id"),
    )


def _record_once(session: Session, values: dict[str, Any], what: str) -> tuple[Decision, bool]:
    """The new event and True; or, when its client id came in first in another request (the same
    decision sent twice at once), that one and False."""
    decision = _record(session, values)
    if decision is not None:
        return decision, True
    if (earlier := _by_client_id(session, values["reviewer"], values["client_id"])) is not None:
        return as_decision(earlier), False
    raise ReviewStoreError(f"{what} not recorded: the database refused it")


def decide(
    session: Session,
    labels: Sequence[str],
    item_id: int,
    reviewer: str,
    action: str,
    spans: SpanList | None,
    client_id: str | None,
) -> tuple[Decision, bool]:
    if (earlier := _by_client_id(session, reviewer, client_id)) is not None:
        return as_decision(earlier), False
    item = _item_values(session, item_id)
    final = checked_spans(spans or [], len(item.tokens), labels) if action == "accept" else None
    standing = session.execute(_ITEM_STANDING, {"item_id": item_id}).all()
    _check_turn(session, item, reviewer, standing)
    values = {
        "item_id": item_id,
        "reviewer": reviewer,
        "at": now(),
        "action": action,
        "spans": final,
        "suggested": {"teacher": item.teacher, "model": item.model},
        "undoes": None,
        "client_id": client_id,
    }
    decision, new = _record_once(session, values, f"decision on item {item_id}")
    if not new:
        return decision, False
    _stand(session, item_id, reviewer, decision)
    session.execute(_RELEASE, {"item_id": item_id, "reviewer": reviewer})
    versions = [
        (row.action, row.spans) for row in standing if row.reviewer != reviewer and row.action in DECIDING
    ]
    if action in DECIDING:
        versions.append((action, final))
    _count_item(session, item, versions)
    return decision, True


def _previous_standing(session: Session, item_id: int, reviewer: str) -> DecisionRow | None:
    """The reviewer's last decision on the item that no undo took back (settlements aside)."""
    undone = select(DecisionRow.undoes).where(
        DecisionRow.item_id == item_id, DecisionRow.reviewer == reviewer, DecisionRow.undoes.is_not(None)
    )
    return session.scalar(
        select(DecisionRow)
        .where(
            DecisionRow.item_id == item_id,
            DecisionRow.reviewer == reviewer,
            DecisionRow.action.in_(("accept", "reject", "skip")),
            DecisionRow.id.not_in(undone),
        )
        .order_by(DecisionRow.id.desc())
        .limit(1)
    )


def undo(session: Session, decision_id: int, reviewer: str) -> Decision:
    target = session.get(DecisionRow, decision_id)
    if target is None:
        raise NoSuchDecision(f"no decision {decision_id}")
    if target.reviewer != reviewer:
        raise AccessDenied(f"decision {decision_id} is {target.reviewer}'s: only they can take it back")
    item = _item(session, target.item_id)
    if target.action == "settle":
        if item.settlement_id != target.id:
            raise NothingToUndo(f"decision {decision_id} is not the item's settlement now")
    else:
        mine = session.get(CurrentRow, (target.item_id, reviewer))
        if mine is None or mine.decision_id != decision_id:
            raise NothingToUndo(
                f"decision {decision_id} is not your standing decision on item {target.item_id} "
                "(already taken back, or decided again since)"
            )
    values = {
        "item_id": target.item_id,
        "reviewer": reviewer,
        "at": now(),
        "action": "undo",
        "spans": None,
        "suggested": None,
        "undoes": decision_id,
        "client_id": None,
    }
    decision = _record(session, values)
    if decision is None:  # the unique index on undoes: another undo of it came first
        raise NothingToUndo(f"decision {decision_id} was already taken back")
    if target.action == "settle":
        item.settlement_id = _previous_settlement(session, item.id)
    else:
        _stand(session, target.item_id, reviewer, _previous_standing(session, target.item_id, reviewer))
        refresh_item(session, item)
    return decision


def undo_last(session: Session, item_id: int, reviewer: str) -> Decision:
    _item(session, item_id, lock=False)
    mine = session.get(CurrentRow, (item_id, reviewer))
    if mine is None:
        raise NothingToUndo(f"{reviewer} has no decision on item {item_id} to undo")
    return undo(session, mine.decision_id, reviewer)


def _previous_settlement(session: Session, item_id: int) -> int | None:
    undone = select(DecisionRow.undoes).where(DecisionRow.item_id == item_id, DecisionRow.undoes.is_not(None))
    return session.scalar(
        select(DecisionRow.id)
        .where(DecisionRow.item_id == item_id, DecisionRow.action == "settle", DecisionRow.id.not_in(undone))
        .order_by(DecisionRow.id.desc())
        .limit(1)
    )


def settle(
    session: Session,
    labels: Sequence[str],
    item_id: int,
    adjudicator: str,
    spans: SpanList | None,
    client_id: str | None,
) -> tuple[Decision, bool]:
    if (earlier := _by_client_id(session, adjudicator, client_id)) is not None:
        return as_decision(earlier), False
    item = _item(session, item_id)
    if not item.conflict and item.settlement_id is None:
        raise NotAConflict(
            f"item {item_id} has no conflict to settle: its reviewers agree, or too few decided"
        )
    final = None if spans is None else checked_spans(spans, len(item.tokens), labels)
    values = {
        "item_id": item_id,
        "reviewer": adjudicator,
        "at": now(),
        "action": "settle",
        "spans": final,
        "suggested": {"teacher": item.teacher, "model": item.model},
        "undoes": None,
        "client_id": client_id,
    }
    decision, new = _record_once(session, values, f"settlement of item {item_id}")
    if new:
        item.settlement_id = decision.id
    return decision, new
