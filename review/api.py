"""The review app's JSON API (the page uses nothing else, so a team can script the same calls with an
API token). The person is always the signed-in identity (:mod:`nerd.review.auth`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from nerd.review.auth import Adjudicator, Person, Settings, Store
from nerd.review.errors import NoSuchItem, NotSignedIn
from nerd.review.events import Decision
from nerd.review.exporting import ExportCounts, conll_block, reviewed_sentences, training_record
from nerd.review.schemas import (
    ConflictOut,
    ConflictsOut,
    DecisionIn,
    DecisionOut,
    HistoryEntry,
    HistoryOut,
    ItemOut,
    LeaseOut,
    LoginIn,
    MeOut,
    ProgressOut,
    ProjectOut,
    QueueOut,
    SettlementIn,
    SpanOut,
)
from nerd.review.stats import ReviewStats, review_stats
from nerd.review.tables import ItemRow
from nerd.review.users import check_password
from nerd.service.json_body import StrictJSONRoute

# Ids as the databases hold them: a larger one is a 422, not an overflow deep in the driver.
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DecisionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PROBLEM = {"content": {"application/json": {"example": {"detail": "what went wrong, as a sentence"}}}}

api = APIRouter(
    prefix="/api",
    tags=["review"],
    route_class=StrictJSONRoute,
    responses={400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 422: PROBLEM, 503: PROBLEM},
)


def spans_out(spans: list[list[Any]] | None) -> list[SpanOut] | None:
    if spans is None:
        return None
    return [SpanOut(start=s[0], end=s[1], label=s[2], confidence=s[3] if len(s) > 3 else None) for s in spans]


def decision_out(decision: Decision) -> DecisionOut:
    return DecisionOut(
        id=decision.id,
        item_id=decision.item_id,
        reviewer=decision.reviewer,
        at=decision.at,
        action=decision.action,
        spans=spans_out(decision.spans),
        undoes=decision.undoes,
        client_id=decision.client_id,
    )


def item_out(row: ItemRow, decision: Decision | None, lease_expires: int | None = None) -> ItemOut:
    return ItemOut(
        id=row.id,
        position=row.position,
        tokens=row.tokens,
        source=row.source,
        teacher=spans_out(row.teacher),
        teacher_provenance=row.teacher_provenance,
        model=spans_out(row.model),
        uncertainty=row.uncertainty,
        disagreement=row.disagreement,
        overlap=row.overlap,
        decision=decision_out(decision) if decision else None,
        lease_expires=lease_expires,
    )


@api.post("/login", status_code=status.HTTP_204_NO_CONTENT)
async def login(body: LoginIn, request: Request, store: Store) -> Response:
    """Sign in with a name and password: sets the session cookie (HttpOnly, SameSite=Strict)."""
    user = await run_in_threadpool(check_password, store, body.name, body.password)
    if user is None:
        raise NotSignedIn("that name and password do not match an enabled user")
    request.session.clear()
    request.session["user"] = user.id
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@api.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request) -> Response:
    """End the session (the cookie is cleared)."""
    request.session.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@api.get("/me", response_model=MeOut)
async def me(person: Person) -> MeOut:
    """Who you are signed in as, and how."""
    return MeOut(name=person.name, role=person.role.value, how=person.how)  # type: ignore[arg-type]


@api.get("/project", response_model=ProjectOut)
async def project(person: Person, store: Store, settings: Settings) -> ProjectOut:
    """The label set and its definitions, the queue's order and the number of sentences."""
    found = store.project()
    return ProjectOut(
        labels=found.labels,
        definitions=found.definitions,
        order=settings.order,
        items=await run_in_threadpool(store.item_count),
        lease_s=settings.lease_s,
    )


@api.get("/next", response_model=ItemOut, responses={204: {"description": "nothing left for you"}})
async def next_item(person: Person, store: Store, settings: Settings) -> Any:
    """The sentence you work on now, leased to you (no one else is served it until the lease ends):
    the one you hold, else the next in the queue that no one else holds. 204 when nothing is left."""
    found = await run_in_threadpool(store.next_item, person.name, settings.order, settings.lease_s)  # type: ignore[arg-type]
    if found is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    row, expires = found
    return item_out(row, await run_in_threadpool(store.current, row.id, person.name), expires)


@api.get("/queue", response_model=QueueOut)
async def queue(
    person: Person, store: Store, settings: Settings, limit: Annotated[int, Query(ge=1, le=1000)] = 10
) -> QueueOut:
    """The items you could be served next (nothing is leased by asking)."""
    ids = await run_in_threadpool(store.queue, person.name, settings.order, limit)
    remaining = (await run_in_threadpool(store.progress, person.name)).remaining
    return QueueOut(reviewer=person.name, order=settings.order, remaining=remaining, items=ids)


@api.get("/items/{item_id}", response_model=ItemOut, responses={404: PROBLEM})
async def item(item_id: ItemId, person: Person, store: Store) -> ItemOut:
    """One sentence with the teacher's and the model's suggestions, and your decision on it."""

    row = await run_in_threadpool(store.item, item_id)
    if row is None:
        raise NoSuchItem(f"no item {item_id}")
    return item_out(row, await run_in_threadpool(store.current, item_id, person.name))


@api.post("/items/{item_id}/lease", response_model=LeaseOut, responses={404: PROBLEM, 409: PROBLEM})
async def renew_lease(item_id: ItemId, person: Person, store: Store, settings: Settings) -> LeaseOut:
    """Keep the item yours while you work on it (the page asks every minute)."""
    expires = await run_in_threadpool(store.renew, item_id, person.name, settings.lease_s)
    return LeaseOut(item_id=item_id, expires=expires)


@api.post(
    "/items/{item_id}/decisions",
    response_model=DecisionOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the same client_id again: the decision first recorded"},
        404: PROBLEM,
        409: PROBLEM,
    },
)
async def decide(
    item_id: ItemId, body: DecisionIn, person: Person, store: Store, response: Response
) -> DecisionOut:
    """Record a decision: accept (with the final spans), reject or skip. It is committed before the
    answer is sent; 409 when the item is someone else's to decide."""
    spans = [[s.start, s.end, s.label] for s in body.spans] if body.action == "accept" else None
    decision, new = await run_in_threadpool(
        lambda: store.decide(item_id, person.name, body.action, spans, client_id=body.client_id)
    )
    if not new:
        response.status_code = status.HTTP_200_OK
    return decision_out(decision)


@api.post(
    "/items/{item_id}/undo",
    response_model=DecisionOut,
    status_code=status.HTTP_201_CREATED,
    responses={404: PROBLEM, 409: PROBLEM},
)
async def undo_item(item_id: ItemId, person: Person, store: Store) -> DecisionOut:
    """Take back your standing decision on the item (recorded as an event of its own)."""
    return decision_out(await run_in_threadpool(store.undo_last, item_id, person.name))


@api.post(
    "/decisions/{decision_id}/undo",
    response_model=DecisionOut,
    status_code=status.HTTP_201_CREATED,
    responses={404: PROBLEM, 409: PROBLEM},
)
async def undo_decision(decision_id: DecisionId, person: Person, store: Store) -> DecisionOut:
    """Take back one decision of yours; a second undo of the same decision is a 409."""
    return decision_out(await run_in_threadpool(store.undo, decision_id, person.name))


@api.get("/progress", response_model=ProgressOut)
async def progress(person: Person, store: Store) -> ProgressOut:
    """How far you are: items decided, remaining, decisions an hour."""
    found = await run_in_threadpool(store.progress, person.name)
    return ProgressOut(
        reviewer=found.reviewer,
        done=found.done,
        remaining=found.remaining,
        total=found.total,
        per_hour=found.per_hour,
    )


@api.get("/history", response_model=HistoryOut)
async def history(
    person: Person,
    store: Store,
    search: Annotated[str, Query(max_length=200, description="only sentences holding this text")] = "",
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="a decision id: older ones")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> HistoryOut:
    """Your standing decisions, newest first (open one with /api/items/{id} and decide again)."""
    found = await run_in_threadpool(
        lambda: store.history(person.name, search=search, limit=limit, before=before)
    )
    entries = [
        HistoryEntry(decision=decision_out(d), tokens=row.tokens, position=row.position) for d, row in found
    ]
    return HistoryOut(entries=entries, before=entries[-1].decision.id if len(entries) == limit else None)


@api.get("/conflicts", response_model=ConflictsOut)
async def conflicts(
    person: Adjudicator,
    store: Store,
    settled: Annotated[bool, Query(description="settled ones instead of open ones")] = False,
    after: Annotated[int, Query(ge=0, le=2**31 - 1, description="a position: items after it")] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConflictsOut:
    """Items whose reviewers disagree, each reviewer's version beside the others (adjudicators)."""
    found = await run_in_threadpool(lambda: store.conflicts(settled=settled, limit=limit, after=after))
    out = [
        ConflictOut(
            item=item_out(c.item, None),
            versions={who: decision_out(d) for who, d in c.versions.items()},
            settlement=decision_out(c.settlement) if c.settlement else None,
        )
        for c in found
    ]
    return ConflictsOut(conflicts=out, after=found[-1].item.position if len(found) == limit else None)


@api.post(
    "/items/{item_id}/settlement",
    response_model=DecisionOut,
    status_code=status.HTTP_201_CREATED,
    responses={404: PROBLEM, 409: PROBLEM},
)
async def settle(
    item_id: ItemId, body: SettlementIn, person: Adjudicator, store: Store, response: Response
) -> DecisionOut:
    """Settle a conflict (adjudicators): the entities the item is exported with, or null to reject it."""
    spans = None if body.spans is None else [[s.start, s.end, s.label] for s in body.spans]
    decision, new = await run_in_threadpool(
        lambda: store.settle(item_id, person.name, spans, client_id=body.client_id)
    )
    if not new:
        response.status_code = status.HTTP_200_OK
    return decision_out(decision)


@api.get("/stats")
async def stats(person: Adjudicator, store: Store) -> ReviewStats:
    """Counts, per-reviewer throughput, agreement, and the teacher against the reviewed data."""
    return await run_in_threadpool(review_stats, store)


@api.get("/export", response_class=StreamingResponse)
async def export(
    person: Adjudicator,
    store: Store,
    format: Annotated[
        str, Query(pattern="^(conll|jsonl)$", description="conll (IOB2) or jsonl records")
    ] = "conll",
) -> StreamingResponse:
    """The accepted and settled sentences, as ``nerd review export`` writes them (adjudicators)."""

    def lines() -> Iterator[str]:
        for sentence in reviewed_sentences(store, ExportCounts()):
            yield (
                training_record(sentence).to_json_line() + "\n"
                if format == "jsonl"
                else conll_block(sentence)
            )

    media = "application/x-ndjson" if format == "jsonl" else "text/plain; charset=utf-8"
    return StreamingResponse(lines(), media_type=media)
