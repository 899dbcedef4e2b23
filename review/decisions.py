"""The rules of a decision, inside the transaction that records it: the item exists, the spans fit
it, no one else holds it, it still needs this reviewer; then the event, the reviewer's standing
decision and the item's open slots and conflict flag, all in one commit."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
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


def _item(session: Session, item_id: int, *, lock: bool = True) -> ItemRow:
    # FOR UPDATE on PostgreSQL (SQLite holds the whole database's write lock already): two decisions
    # on one item at once are taken one after the other, so open_slots is never counted twice.
    item = session.get(ItemRow, item_id, with_for_update=lock and session.bind.dialect.name != "sqlite")
    if item is None:
        raise NoSuchItem(f"no item {item_id}")
    return item


def _by_client_id(session: Session, reviewer: str, client_id: str | None) -> DecisionRow | None:
    if client_id is None:
        return None
    return session.scalar(
        select(DecisionRow).where(DecisionRow.reviewer == reviewer, DecisionRow.client_id == client_id)
    )


def _check_turn(session: Session, item: ItemRow, reviewer: str, mine: CurrentRow | None) -> None:
    """Refuse a decision on an item this reviewer may not decide now."""
    if mine is not None and mine.action in DECIDING:
        return  # deciding again on one's own item (from the history) is always allowed
    others = session.scalars(
        select(CurrentRow.reviewer).where(
            CurrentRow.item_id == item.id, CurrentRow.reviewer != reviewer, CurrentRow.action.in_(DECIDING)
        )
    ).all()
    needed = 2 if item.overlap else 1
    if len(others) >= needed:
        raise AlreadyDecided(
            f"item {item.id} has the decisions it needs ({', '.join(sorted(others))}): it is not yours "
            "to decide now"
        )
    holders = session.scalars(
        select(LeaseRow.reviewer).where(
            LeaseRow.item_id == item.id, LeaseRow.reviewer != reviewer, LeaseRow.expires > int(time.time())
        )
    ).all()
    mine_leased = session.get(LeaseRow, (item.id, reviewer)) is not None
    if not mine_leased and len(holders) >= needed - len(others):
        raise LeasedToSomeoneElse(
            f"item {item.id} is being reviewed by {', '.join(sorted(holders))}: ask for the next item instead"
        )


def refresh_item(session: Session, item: ItemRow) -> None:
    """Recount the item's open slots and whether its reviewers disagree, from the standing decisions."""
    rows = session.execute(
        select(DecisionRow.action, DecisionRow.spans)
        .join(CurrentRow, CurrentRow.decision_id == DecisionRow.id)
        .where(CurrentRow.item_id == item.id, CurrentRow.action.in_(DECIDING))
    ).all()
    was_open = item.open_slots > 0
    item.open_slots = (2 if item.overlap else 1) - len(rows)
    if was_open != (item.open_slots > 0):
        change = -1 if was_open else 1
        session.execute(
            update(ProjectRow).where(ProjectRow.id == 1).values(open_items=ProjectRow.open_items + change)
        )
    versions = {(action, tuple(tuple(span) for span in spans or [])) for action, spans in rows}
    item.conflict = len(versions) > 1


def _stand(session: Session, item_id: int, reviewer: str, decision: DecisionRow | None) -> None:
    """Make ``decision`` the reviewer's standing one on the item (None: they have none now)."""
    row = session.get(CurrentRow, (item_id, reviewer))
    if decision is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(
            CurrentRow(item_id=item_id, reviewer=reviewer, decision_id=decision.id, action=decision.action)
        )
    else:
        row.decision_id, row.action = decision.id, decision.action
    session.flush()


def _record(session: Session, row: DecisionRow) -> DecisionRow:
    """Insert the event; a unique index that refuses it becomes the caller's to explain."""
    # A savepoint: a refused insert rolls back alone (and takes the row out of the session), the
    # transaction stays usable to look up what refused it.
    with session.begin_nested():
        session.add(row)
        session.flush()
    return row


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
    item = _item(session, item_id)
    final = checked_spans(spans or [], len(item.tokens), labels) if action == "accept" else None
    mine = session.get(CurrentRow, (item_id, reviewer))
    _check_turn(session, item, reviewer, mine)
    row = DecisionRow(
        item_id=item_id,
        reviewer=reviewer,
        at=now(),
        action=action,
        spans=final,
        suggested={"teacher": item.teacher, "model": item.model},
        client_id=client_id,
    )
    try:
        _record(session, row)
    except IntegrityError:
        # The same decision sent twice at once (PostgreSQL): the first one in is the answer to both.
        if (earlier := _by_client_id(session, reviewer, client_id)) is not None:
            return as_decision(earlier), False
        raise ReviewStoreError(f"decision on item {item_id} not recorded: the database refused it") from None
    _stand(session, item_id, reviewer, row)
    session.execute(delete(LeaseRow).where(LeaseRow.item_id == item_id, LeaseRow.reviewer == reviewer))
    refresh_item(session, item)
    return as_decision(row), True


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
    row = DecisionRow(item_id=target.item_id, reviewer=reviewer, at=now(), action="undo", undoes=decision_id)
    try:
        _record(session, row)
    except IntegrityError:
        raise NothingToUndo(f"decision {decision_id} was already taken back") from None
    if target.action == "settle":
        item.settlement_id = _previous_settlement(session, item.id)
    else:
        _stand(session, target.item_id, reviewer, _previous_standing(session, target.item_id, reviewer))
        refresh_item(session, item)
    return as_decision(row)


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
    row = DecisionRow(
        item_id=item_id,
        reviewer=adjudicator,
        at=now(),
        action="settle",
        spans=final,
        suggested={"teacher": item.teacher, "model": item.model},
        client_id=client_id,
    )
    try:
        _record(session, row)
    except IntegrityError:
        if (earlier := _by_client_id(session, adjudicator, client_id)) is not None:
            return as_decision(earlier), False
        raise ReviewStoreError(
            f"settlement of item {item_id} not recorded: the database refused it"
        ) from None
    item.settlement_id = row.id
    return as_decision(row), True
