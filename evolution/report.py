"""``nerd evolve report``: F1 per round, from what the rounds' directories hold.

A round's student is scored twice when its plan is made: on the probe data whose mistakes the
teacher saw, and (with ``--eval``) on held-out data. The score after a round is its
``evaluation.json`` (``nerd evaluate --json`` of the student it trained) or, without one, the next
round's starting score (the same student when the rounds follow each other). The held-out gain is the
honest one: the probe data's mistakes were shown to the teacher.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.errors import InputError
from nerd.evolution.rounds import Round, evaluation_of, imported_report, rounds_in


@dataclass(frozen=True)
class RoundRow:
    round: int
    directory: str
    student: str
    probe_f1: float
    eval_f1: float | None
    errors: int
    requests: int
    imported: int | None
    rejected: int | None
    after_f1: float | None  # held-out F1 of the student this round trained
    after_source: str | None

    @property
    def gain(self) -> float | None:
        if self.after_f1 is None or self.eval_f1 is None:
            return None
        return round(self.after_f1 - self.eval_f1, 4)

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "gain": self.gain}


def _eval_f1(round_: Round) -> float | None:
    held_out = round_.state.get("eval")
    return None if held_out is None else float(held_out["micro"]["f1"])


def report_rows(parent: Path) -> list[RoundRow]:
    """One row per round under ``parent``.

    Raises:
        InputError: no round there.
    """
    rounds = rounds_in(parent)
    if not rounds:
        raise InputError("holds no round directory (a subdirectory with round.json)", path=parent)
    rows = []
    for position, round_ in enumerate(rounds):
        imported = imported_report(round_)
        evaluation = evaluation_of(round_)
        after, source = None, None
        if evaluation is not None:
            after, source = float(evaluation["micro"]["f1"]), "evaluation.json"
        elif position + 1 < len(rounds) and _eval_f1(rounds[position + 1]) is not None:
            after, source = _eval_f1(rounds[position + 1]), f"round {rounds[position + 1].number} plan"
        state = round_.state
        rows.append(
            RoundRow(
                round=round_.number,
                directory=str(round_.directory),
                student=state["student"]["path"],
                probe_f1=float(state["scores"]["micro"]["f1"]),
                eval_f1=_eval_f1(round_),
                errors=sum(count for count in state["errors"]["by_kind"].values() if isinstance(count, int)),
                requests=int(state["requests"]["count"]),
                imported=None if imported is None else int(imported["imported"]),
                rejected=None if imported is None else int(imported["rejected"]),
                after_f1=after,
                after_source=source,
            )
        )
    return rows


def format_value(value: float | int | None, *, signed: bool = False) -> str:
    """A cell of the report: scores to 4 places (gains with their sign), counts as they are, – for none."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:+.4f}" if signed else f"{value:.4f}"
    return str(value)


def markdown(rows: list[RoundRow]) -> str:
    """The report as a Markdown table."""
    lines = [
        "| round | student | probe F1 | held-out F1 before | errors | requests | imported | rejected | "
        "held-out F1 after | gain |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [
            str(row.round),
            f"`{row.student}`",
            format_value(row.probe_f1),
            format_value(row.eval_f1),
            str(row.errors),
            str(row.requests),
            format_value(row.imported),
            format_value(row.rejected),
            format_value(row.after_f1),
            format_value(row.gain, signed=True),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
