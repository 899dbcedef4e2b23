"""The review app's JSON API (the page uses nothing else, so a team can script the same calls) and the
page itself."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import FileResponse, Response

from nerd.review.schemas import (
    DecisionIn,
    DecisionOut,
    ItemOut,
    ProgressOut,
    ProjectOut,
    QueueOut,
    SpanIn,
    SpanOut,
    UndoIn,
)
from nerd.review.stats import ReviewStats, review_stats, reviewer_stats
from nerd.review.store import Decision, Order, ReviewStore
from nerd.service.json_body import StrictJSONRoute
from nerd.service.problems import NotFound, OverLimit, ServiceProblem
from nerd.service.schemas import Problem

STATIC = Path(__file__).with_name("static")
ASSETS = {"review.js": "text/javascript", "review.css": "text/css"}
Reviewer = Annotated[str, Query(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$")]


class NothingToUndo(ServiceProblem):
    status_code = status.HTTP_409_CONFLICT


async def get_store(request: Request) -> ReviewStore:
    return request.app.state.store


async def get_order(request: Request) -> Order:
    return request.app.state.order


async def get_labels(request: Request) -> list[str]:
    return request.app.state.labels


Store = Annotated[ReviewStore, Depends(get_store)]
QueueOrder = Annotated[Order, Depends(get_order)]
Labels = Annotated[list[str], Depends(get_labels)]

api = APIRouter(
    prefix="/api",
    tags=["review"],
    route_class=StrictJSONRoute,
    responses={400: {"model": Problem}, 422: {"model": Problem}},
)
page = APIRouter(include_in_schema=False)


def _run(function: Any, *args: Any) -> Any:
    """Database work off the event loop (SQLAlchemy's sessions are synchronous)."""
    return asyncio.get_running_loop().run_in_executor(None, function, *args)


@api.get("/project", response_model=ProjectOut)
async def project(store: Store, order: QueueOrder, labels: Labels) -> ProjectOut:
    """The label set, the queue's order and the number of sentences."""
    return ProjectOut(labels=labels, order=order, items=await _run(store.item_count))


@api.get("/queue", response_model=QueueOut)
async def queue(
    store: Store, order: QueueOrder, reviewer: Reviewer, limit: int = Query(10, ge=1, le=1000)
) -> QueueOut:
    """The items this reviewer should see next, the next first."""
    ids = await _run(store.queue, reviewer, order)
    return QueueOut(reviewer=reviewer, order=order, remaining=len(ids), items=ids[:limit])


@api.get("/items/{item_id}", response_model=ItemOut, responses={404: {"model": Problem}})
async def item(item_id: int, store: Store, reviewer: Reviewer) -> ItemOut:
    """One sentence with the teacher's and the model's suggestions, and this reviewer's decision."""
    row = await _run(store.item, item_id)
    if row is None:
        raise NotFound(f"no item {item_id}")
    current = await _run(store.current, item_id, reviewer)
    return ItemOut(
        id=row.id,
        position=row.position,
        tokens=row.tokens,
        source=row.source,
        teacher=_spans_out(row.teacher),
        teacher_provenance=row.teacher_provenance,
        model=_spans_out(row.model),
        uncertainty=row.uncertainty,
        disagreement=row.disagreement,
        overlap=row.overlap,
        decision=_decision_out(current) if current else None,
    )


@api.post(
    "/items/{item_id}/decisions",
    response_model=DecisionOut,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"model": Problem}},
)
async def decide(item_id: int, body: DecisionIn, store: Store, labels: Labels) -> DecisionOut:
    """Record a decision: accept (with the final spans), reject or skip. It is committed before the
    answer is sent."""
    row = await _run(store.item, item_id)
    if row is None:
        raise NotFound(f"no item {item_id}")
    spans = _checked_spans(body.spans, len(row.tokens), labels) if body.action == "accept" else None
    suggested = {"teacher": row.teacher, "model": row.model}
    decision = await _run(store.decide, item_id, body.reviewer, body.action, spans, suggested)
    return _decision_out(decision)


@api.post(
    "/items/{item_id}/undo",
    response_model=DecisionOut,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"model": Problem}, 409: {"model": Problem}},
)
async def undo(item_id: int, body: UndoIn, store: Store) -> DecisionOut:
    """Take back this reviewer's last decision on the item (recorded as an event of its own)."""
    try:
        decision = await _run(store.decide, item_id, body.reviewer, "undo")
    except KeyError:
        raise NotFound(f"no item {item_id}") from None
    except LookupError as error:
        raise NothingToUndo(str(error)) from None
    return _decision_out(decision)


@api.get("/progress", response_model=ProgressOut)
async def progress(store: Store, order: QueueOrder, reviewer: Reviewer) -> ProgressOut:
    """How far this reviewer is: items decided, remaining, decisions an hour."""
    # The page asks after every decision: only this reviewer's decisions are read, not the review's.
    mine = reviewer_stats(await _run(lambda: store.decisions(reviewer=reviewer)))
    remaining = len(await _run(store.queue, reviewer, order))
    return ProgressOut(
        reviewer=reviewer,
        done=mine["accepted"] + mine["rejected"],
        remaining=remaining,
        total=await _run(store.item_count),
        per_hour=mine["per_hour"],
    )


@api.get("/stats")
async def stats(store: Store) -> ReviewStats:
    """Counts, per-reviewer throughput, agreement, and the teacher against the reviewed data."""
    return await _run(review_stats, store)


@page.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@page.get("/static/{name}")
def asset(name: str) -> Response:
    if name not in ASSETS:
        raise NotFound("no such file")
    return FileResponse(STATIC / name, media_type=ASSETS[name])


def _checked_spans(spans: list[SpanIn], length: int, labels: list[str]) -> list[list[Any]]:
    """Spans within the sentence, of known labels, not overlapping; 422 naming the first that is not."""
    taken: set[int] = set()
    checked = []
    for index, span in enumerate(sorted(spans, key=lambda s: s.start)):
        if span.end > length or span.start >= span.end:
            raise OverLimit(
                f"spans[{index}]: tokens {span.start}-{span.end} are not within the {length} tokens"
            )
        if span.label not in labels:
            raise OverLimit(f"spans[{index}]: label {span.label!r} is not one of {', '.join(labels)}")
        words = set(range(span.start, span.end))
        if words & taken:
            raise OverLimit(f"spans[{index}]: tokens {span.start}-{span.end} overlap another entity")
        taken |= words
        checked.append([span.start, span.end, span.label])
    return checked


def _spans_out(spans: list[list[Any]] | None) -> list[SpanOut] | None:
    if spans is None:
        return None
    return [SpanOut(start=s[0], end=s[1], label=s[2], confidence=s[3] if len(s) > 3 else None) for s in spans]


def _decision_out(decision: Decision) -> DecisionOut:
    return DecisionOut(
        id=decision.id,
        item_id=decision.item_id,
        reviewer=decision.reviewer,
        at=decision.at,
        action=decision.action,
        spans=[SpanIn(start=s[0], end=s[1], label=s[2]) for s in decision.spans] if decision.spans else None,
        undoes=decision.undoes,
    )
