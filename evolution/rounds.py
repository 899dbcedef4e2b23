"""The rounds of an evolution, one directory each, side by side: ``evolve/round-1/``, ``round-2/``, ...

A round directory holds what ``nerd evolve plan`` wrote: ``round.json`` with the student's scores and
errors, ``mistakes.jsonl``, ``correct.jsonl``, ``history.json``, ``evaluation-before.json`` (with
``--eval``), the Batch request files and their ``manifest.json``. The operator adds the Batch output
carried back (any ``*.jsonl`` at its top level), the import of it (a subdirectory holding
``report.json``) and, after training, ``evaluation.json`` from ``nerd evaluate --json``. The rounds of
one evolution are the directories beside each other that hold a ``round.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.annotation.answer_lines import read_lines
from nerd.annotation.generated import analysis_of
from nerd.annotation.record_shapes import RecordProblem, Shape, read_batch_output, shape_of
from nerd.errors import InputError
from nerd.json_files import read_json

ROUND_FILE = "round.json"
EVALUATION_FILE = "evaluation.json"
# The student the round starts from, on the held-out data (plan --eval), as nerd evaluate --json writes.
EVALUATION_BEFORE_FILE = "evaluation-before.json"


@dataclass(frozen=True)
class Round:
    """A planned round as found on disk."""

    directory: Path
    state: dict[str, Any]

    @property
    def number(self) -> int:
        return int(self.state["round"])


def read_round(directory: Path) -> Round:
    """The round planned in ``directory``.

    Raises:
        InputError: no ``round.json``, or one that is not a round's state.
    """
    path = directory / ROUND_FILE
    state = read_json(path, missing="not a round directory: no round.json (made by nerd evolve plan)")
    for field, kind in _ROUND_FIELDS:
        _require(state, field, kind, path)
    if state["eval"] is not None:
        _require(state, "eval.micro.f1", (int, float), path)
    return Round(directory, state)


# What the report and the next plans read from a round.json, and the types they need.
_ROUND_FIELDS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("round", int),
    ("student.path", str),
    ("scores.micro.f1", (int, float)),
    ("errors.by_kind", dict),
    ("requests.count", int),
    ("request_ids", list),
    ("eval", (dict, type(None))),
)


def _require(data: Any, field: str, kind: type | tuple[type, ...], path: Path) -> Any:
    """``data[a][b]...`` for ``field`` "a.b...", of type ``kind``.

    Raises:
        InputError: naming the file and the field that is missing or of the wrong type.
    """
    value = data
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            raise InputError(f"no {field!r}: not a file nerd wrote, or edited", path=path, field=field)
        value = value[part]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"{field!r} has the wrong type ({type(value).__name__})", path=path, field=field)
    return value


def rounds_in(parent: Path) -> list[Round]:
    """Every round directory directly under ``parent``, by round number."""
    if not parent.is_dir():
        return []
    found = [read_round(child) for child in sorted(parent.iterdir()) if (child / ROUND_FILE).is_file()]
    return sorted(found, key=lambda round_: round_.number)


def teacher_analyses(round_: Round) -> list[str]:
    """The weakness analyses the teacher wrote in answer to this round's requests, where the Batch
    output was put into the round directory (empty when it was not)."""
    ids = set(round_.state.get("request_ids", []))
    analyses: list[str] = []
    for path in sorted(round_.directory.glob("*.jsonl")):
        for line in read_lines(path):
            if line.data is None or shape_of(line.data) is not Shape.BATCH_OUTPUT:
                continue
            if line.data.get("custom_id") not in ids:
                continue
            try:
                answer = read_batch_output(line.data)
            except RecordProblem:
                continue
            text = analysis_of(answer.text or "", limit=1_200)
            if text:
                analyses.append(text)
    return analyses


def imported_report(round_: Round) -> dict[str, Any] | None:
    """The ``generated`` part of the import report in a subdirectory of the round, if one was made."""
    for path in sorted(round_.directory.glob("*/report.json")):
        report = read_json(path)
        generated = report.get("generated") if isinstance(report, dict) else None
        if isinstance(generated, dict):
            for field in ("imported", "rejected"):
                _require(generated, field, int, path)
            return generated
    return None


def evaluation_of(round_: Round) -> dict[str, Any] | None:
    """``evaluation.json`` of the round (the retrained student, from ``nerd evaluate --json``)."""
    path = round_.directory / EVALUATION_FILE
    if not path.is_file():
        return None
    report = read_json(path)
    _require(report, "micro.f1", (int, float), path)
    return report


def history_entry(round_: Round, *, analyses_per_round: int = 2) -> dict[str, Any]:
    """What the next rounds' prompts say about this round."""
    imported = imported_report(round_)
    return {
        "round": round_.number,
        "f1": round_.state["scores"]["micro"]["f1"],
        "errors": round_.state["errors"],
        "imported": imported["imported"] if imported else None,
        "analyses": teacher_analyses(round_)[:analyses_per_round],
    }
