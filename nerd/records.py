"""The training-data record that ``nerd import`` writes and ``nerd train`` reads (one JSON line each)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nerd.errors import InputError, TagSchemeError
from nerd.jsonl import JsonLine, LineProblem, read_jsonl
from nerd.spans import iob2_to_spans


class Provenance(BaseModel):
    """Where a record came from: the answer file and line, which teacher answered, for a sentence the
    teacher wrote itself how hard it meant it to be, and whether people reviewed it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    line: int
    shape: str
    teacher: str | None = None
    difficulty: str | None = None
    # Soft labels (``nerd label``): the labelling models' combined sha256 and the input file's.
    labeller_sha256: str | None = None
    input_sha256: str | None = None
    # A sentence a person checked (``nerd review export``), and who.
    reviewed: bool | None = None
    reviewers: list[str] | None = None


class TrainingRecord(BaseModel):
    """One sentence of training data: tokens, IOB2 tags, and where it came from.

    A soft-labelled record (``nerd label``) also gives each word's label distribution: ``probabilities``
    holds one row per token, its columns in the order of ``labels``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    tokens: list[str] = Field(min_length=1)
    tags: list[str]
    labels: list[str] | None = None
    probabilities: list[list[float]] | None = None
    provenance: Provenance | None = None

    @model_validator(mode="after")
    def _tags_fit_tokens(self) -> TrainingRecord:
        if len(self.tags) != len(self.tokens):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.tags)} tags")
        try:
            iob2_to_spans(self.tags)
        except TagSchemeError as error:
            raise ValueError(str(error)) from None
        if (self.labels is None) != (self.probabilities is None):
            raise ValueError("labels and probabilities come together (the columns and the rows)")
        if self.labels is not None and self.probabilities is not None:
            _check_distributions(self.labels, self.probabilities, len(self.tokens))
        return self

    def to_json_line(self) -> str:
        """The record as one compact JSON line (keys in a fixed order, so outputs are reproducible)."""
        return json.dumps(self.model_dump(exclude_none=True), ensure_ascii=False, separators=(",", ":"))


def _check_distributions(labels: list[str], rows: list[list[float]], tokens: int) -> None:
    if "O" not in labels or len(set(labels)) != len(labels):
        raise ValueError("labels must be distinct and include O")
    if len(rows) != tokens:
        raise ValueError(f"{tokens} tokens but {len(rows)} probability rows")
    for number, row in enumerate(rows):
        if len(row) != len(labels):
            raise ValueError(f"probability row {number} has {len(row)} values for {len(labels)} labels")
        if not all(0.0 <= value <= 1.0 for value in row) or abs(sum(row) - 1.0) > 0.01:
            raise ValueError(f"probability row {number} is not a distribution (values in 0-1 summing to 1)")


def read_records(path: str | Path) -> Iterator[TrainingRecord]:
    """Training records of a JSONL file (read as every JSONL of nerd is: :mod:`nerd.jsonl`).

    Raises:
        InputError: a line that is not a valid record, naming the file, the line and the field.
    """
    path = Path(path)
    try:
        for line in read_jsonl(path):
            yield _parse_record(line, path)
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", path=path) from None


def numbered_records(path: str | Path) -> Iterator[tuple[int, TrainingRecord]]:
    """The records of a JSONL file with the line each is on (1-based, as an editor counts).

    Raises:
        InputError: as :func:`read_records`.
    """
    path = Path(path)
    try:
        for line in read_jsonl(path):
            yield line.number, _parse_record(line, path)
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", path=path) from None


def _parse_record(line: JsonLine, path: Path) -> TrainingRecord:
    if line.problem is LineProblem.INVALID_UTF8:
        raise InputError("not valid UTF-8", path=path, line=line.number)
    if line.problem is not None:
        raise InputError(f"not JSON: {line.detail}", path=path, line=line.number)
    data: Any = line.value
    number = line.number
    try:
        return TrainingRecord.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InputError(first["msg"], path=path, line=number, field=field) from None
