"""The HTTP API's request and response bodies (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nerd.decoding import Decoding


def _exactly_one_input_schema(schema: dict[str, Any]) -> None:
    """The exactly-one rule in the schema itself, so that a body the schema allows is one the server
    takes: a field that is present but null does not count, as in the validator."""
    schema["examples"] = [{"texts": ["Angela Merkel visited Paris on Monday."]}]
    shapes = {"text": {"type": "string"}, "texts": {"type": "array"}, "tokens": {"type": "array"}}
    schema["oneOf"] = [{"required": [name], "properties": {name: shape}} for name, shape in shapes.items()]


class EntitiesRequest(BaseModel):
    """Exactly one of ``text``, ``texts`` or ``tokens``."""

    # strict: a value of another JSON type is refused, never coerced ("0" is no number, 1 no text).
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_exactly_one_input_schema)

    text: str | None = Field(default=None, description="one raw text")
    texts: list[str] | None = Field(default=None, description="raw texts, answered in order")
    tokens: list[list[str]] | None = Field(
        default=None, description="pre-split texts; entity start/end are then token indices"
    )
    aggregation: Literal["first", "average", "max"] | None = Field(
        default=None,
        description="how a word's label comes from its sub-tokens; default: the server's (first)",
    )
    decoding: Decoding | None = Field(
        default=None,
        description="viterbi: the most probable valid IOB2 sequence (a name is never split into two "
        "entities of different types); argmax: each word's best label, then repaired; default: the "
        "server's (viterbi)",
    )

    @model_validator(mode="after")
    def _exactly_one_input(self) -> EntitiesRequest:
        given = [name for name in ("text", "texts", "tokens") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of text, texts or tokens (got {', '.join(given) or 'none'})")
        return self


class EntityOut(BaseModel):
    text: str = Field(description="input[start:end]")
    label: str
    start: int = Field(description="character offset (Unicode code points) or, for tokens, token index")
    end: int = Field(description="exclusive end, in the same unit as start")
    score: float = Field(
        description="mean, over the entity's words, of the probability the model gave each word's chosen "
        "label, 0-1 (with viterbi a word's label may not be its most probable one)"
    )


class ResultOut(BaseModel):
    entities: list[EntityOut]
    truncated: bool = Field(
        description="true only when a word was longer than a whole model window and its tail was not read"
    )


class ModelRef(BaseModel):
    name: str
    version: str = Field(description="the export time of the bundle (bundle.json 'created')")
    sha256: str = Field(description="sha256 of model.onnx")
    bundle_sha256: str = Field(
        description="sha256 of the whole bundle: its bundle.json, which lists every file's"
    )


class EntitiesResponse(BaseModel):
    model: ModelRef
    results: list[ResultOut]


class ModelInfo(BaseModel):
    name: str
    bundle_sha256: str = Field(
        description="sha256 of the whole bundle: its bundle.json, which lists every file's"
    )
    variant: str
    labels: list[str]
    entity_types: list[str]
    max_length: int
    word_shapes: list[str] | None = Field(
        default=None,
        description="the word shapes (capitalisation classes) the model reads beside the sub-tokens; "
        "null for a model that sees only its tokenizer's ids",
    )
    runtime: str = Field(description="the library running the model: onnxruntime or openvino")
    provider: str
    versions: dict[str, str]
    files: dict[str, str]
    verification: dict[str, object]
    training: dict[str, object] | None = Field(description="summary of the bundle's training card")


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    model_dir: str | None = Field(default=None, description="a bundle directory; default: the current one")


class Problem(BaseModel):
    detail: str | list[dict[str, Any]] = Field(
        description="what went wrong: a sentence, or for a malformed body FastAPI's list of field errors"
    )
