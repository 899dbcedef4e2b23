"""The training-data record that ``nerd import`` writes and ``nerd train`` reads (one JSON line each)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nerd.errors import InputError, TagSchemeError
from nerd.json_files import json_error_text
from nerd.spans import iob2_to_spans


class Provenance(BaseModel):
    """Where a record came from: the bundle file and line, which teacher answered, and for a sentence
    the teacher wrote itself, how hard it meant it to be."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    line: int
    shape: str
    teacher: str | None = None
    difficulty: str | None = None


class TrainingRecord(BaseModel):
    """One sentence of training data: tokens, IOB2 tags, and where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    tokens: list[str] = Field(min_length=1)
    tags: list[str]
    provenance: Provenance | None = None

    @model_validator(mode="after")
    def _tags_fit_tokens(self) -> TrainingRecord:
        if len(self.tags) != len(self.tokens):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.tags)} tags")
        try:
            iob2_to_spans(self.tags)
        except TagSchemeError as error:
            raise ValueError(str(error)) from None
        return self

    def to_json_line(self) -> str:
        """The record as one compact JSON line (keys in a fixed order, so outputs are reproducible)."""
        return json.dumps(self.model_dump(exclude_none=True), ensure_ascii=False, separators=(",", ":"))


def read_records(path: str | Path) -> Iterator[TrainingRecord]:
    """Training records of a JSONL file.

    Raises:
        InputError: a line that is not a valid record, naming the file, the line and the field.
    """
    path = Path(path)
    try:
        stream = path.open(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", path=path) from None
    with stream:
        number = 0
        try:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                yield _parse_record(line, path, number)
        except UnicodeDecodeError:
            raise InputError("not valid UTF-8", path=path, line=number + 1) from None


def _parse_record(line: str, path: Path, number: int) -> TrainingRecord:
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"not JSON: {json_error_text(error)}", path=path, line=number) from None
    try:
        return TrainingRecord.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InputError(first["msg"], path=path, line=number, field=field) from None
