"""The review API's request and response bodies (they make its OpenAPI schema). Request bodies are
strict: no key outside the model, no coercion between JSON types."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# A client-made decision id: the page makes a UUID; a script anything of these characters.
CLIENT_ID = r"^[A-Za-z0-9._:-]{1,64}$"
STRICT = ConfigDict(extra="forbid", strict=True)


def _json_integer(value: Any) -> Any:
    """An integer as JSON Schema has it: 3 or 3.0 (one number in JSON), never "3" or true.

    >>> _json_integer(3.0), _json_integer(3)
    (3, 3)
    """
    if isinstance(value, bool):
        raise ValueError("a token index is a number, not true or false")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # strict mode refuses anything else that is not an int


TokenIndex = Annotated[int, BeforeValidator(_json_integer)]


class SpanIn(BaseModel):
    """An entity as token indices: tokens[start:end] with one label."""

    model_config = STRICT

    start: TokenIndex = Field(ge=0, le=1_000_000, description="first token of the entity")
    end: TokenIndex = Field(ge=1, le=1_000_000, description="one past its last token")
    label: str = Field(min_length=1, max_length=100)


class SpanOut(BaseModel):
    start: int
    end: int
    label: str
    confidence: float | None = Field(default=None, description="the model's, 0-1; absent for the teacher")


class DecisionIn(BaseModel):
    model_config = STRICT

    action: Literal["accept", "reject", "skip"]
    spans: list[SpanIn] = Field(
        default_factory=list, max_length=10_000, description="the final entities (accept only)"
    )
    client_id: str | None = Field(
        default=None,
        pattern=CLIENT_ID,
        description="made by the client, once per decision: the same decision sent again is recorded once",
    )


class SettlementIn(BaseModel):
    model_config = STRICT

    spans: list[SpanIn] | None = Field(
        max_length=10_000, description="the entities the item is exported with; null rejects the sentence"
    )
    client_id: str | None = Field(default=None, pattern=CLIENT_ID)


class LoginIn(BaseModel):
    model_config = STRICT

    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class DecisionOut(BaseModel):
    id: int
    item_id: int
    reviewer: str
    at: str = Field(description="UTC, ISO 8601")
    action: str
    spans: list[SpanOut] | None
    undoes: int | None = Field(description="the decision an undo took back")
    client_id: str | None = None


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
    decision: DecisionOut | None = Field(description="what you decided, if anything")
    lease_expires: int | None = Field(
        default=None, description="until when (seconds since the epoch) the item is yours alone"
    )


class QueueOut(BaseModel):
    reviewer: str
    order: str
    remaining: int
    items: list[int] = Field(description="item ids, the next first")


class ProjectOut(BaseModel):
    labels: list[str]
    definitions: dict[str, str] = Field(description="the guideline: each label's definition")
    order: str
    items: int
    lease_s: int


class MeOut(BaseModel):
    name: str
    role: str
    how: Literal["session", "token", "proxy", "open"]


class ProgressOut(BaseModel):
    reviewer: str
    done: int = Field(description="items you accepted or rejected")
    remaining: int
    total: int
    per_hour: float | None


class LeaseOut(BaseModel):
    item_id: int
    expires: int


class HistoryEntry(BaseModel):
    decision: DecisionOut
    tokens: list[str]
    position: int


class HistoryOut(BaseModel):
    entries: list[HistoryEntry]
    before: int | None = Field(description="pass as ?before= for the next (older) page; null at the end")


class ConflictOut(BaseModel):
    item: ItemOut
    versions: dict[str, DecisionOut] = Field(description="each reviewer's standing decision")
    settlement: DecisionOut | None


class ConflictsOut(BaseModel):
    conflicts: list[ConflictOut]
    after: int | None = Field(description="pass as ?after= for the next page; null at the end")
