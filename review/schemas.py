"""The review API's request and response bodies (they make its OpenAPI schema)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SpanIn(BaseModel):
    """An entity as token indices: tokens[start:end] with one label."""

    model_config = ConfigDict(extra="forbid")

    start: int = Field(ge=0, description="first token of the entity")
    end: int = Field(ge=1, description="one past its last token")
    label: str


class SpanOut(SpanIn):
    confidence: float | None = Field(default=None, description="the model's, 0-1; absent for the teacher")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$")
    action: Literal["accept", "reject", "skip"]
    spans: list[SpanIn] = Field(
        default_factory=list, max_length=10_000, description="the final entities (accept only)"
    )


class UndoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$")


class DecisionOut(BaseModel):
    id: int
    item_id: int
    reviewer: str
    at: str = Field(description="UTC, ISO 8601")
    action: str
    spans: list[SpanIn] | None
    undoes: int | None = Field(description="the decision an undo took back")


class ItemOut(BaseModel):
    id: int
    position: int = Field(description="place in the inputs, 1-based")
    tokens: list[str]
    source: str = Field(description="input file and line")
    teacher: list[SpanOut] | None = Field(description="the teacher's entities, when it answered")
    teacher_provenance: dict[str, object] | None
    model: list[SpanOut] | None = Field(description="the model's entities with their confidence")
    uncertainty: float
    disagreement: float = Field(description="1 - entity F1 between the teacher and the model")
    overlap: bool = Field(description="given to two reviewers, to measure agreement")
    decision: DecisionOut | None = Field(description="what this reviewer decided, if anything")


class QueueOut(BaseModel):
    reviewer: str
    order: str
    remaining: int
    items: list[int] = Field(description="item ids, the next first")


class ProjectOut(BaseModel):
    labels: list[str]
    order: str
    items: int


class ProgressOut(BaseModel):
    reviewer: str
    done: int = Field(description="items this reviewer accepted or rejected")
    remaining: int
    total: int
    per_hour: float | None
