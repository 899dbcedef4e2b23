"""The grid's results as the paper lays them out: mean ± std over seeds, one row per group or strategy."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nerd.experiments.grid import GROUP_RECIPES, Setting, group_setting, strategy_setting
from nerd.training.schedules import parse_schedule

TYPES = ("LOC", "MISC", "ORG", "PER")


@dataclass(frozen=True)
class Entry:
    """One table entry: the seeds of one setting."""

    setting: Setting
    seeds: tuple[int, ...]
    f1: tuple[float, ...]
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    type_f1: dict[str, tuple[float, ...]]
    wall_seconds: float  # summed over the seeds

    @property
    def mean(self) -> float:
        return statistics.fmean(self.f1)

    @property
    def std(self) -> float:
        # The sample deviation: a few seeds estimate the spread of all seeds.
        return statistics.stdev(self.f1) if len(self.f1) > 1 else 0.0

    def cell(self) -> str:
        """``0.8300 ± 0.0023 (3)``: mean ± std over n seeds."""
        return f"{self.mean:.4f} ± {self.std:.4f} ({len(self.f1)})"


def entries(results: Sequence[dict[str, Any]]) -> dict[Setting, Entry]:
    """Results grouped by setting (seed order kept)."""
    grouped: dict[Setting, list[dict[str, Any]]] = {}
    for result in results:
        setting = Setting(result["distilled"], result["schedule"], result["lr_decay"])
        grouped.setdefault(setting, []).append(result)
    table = {}
    for setting, runs in grouped.items():
        runs.sort(key=lambda run: run["seed"])
        table[setting] = Entry(
            setting=setting,
            seeds=tuple(run["seed"] for run in runs),
            f1=tuple(run["dev"]["micro"]["f1"] for run in runs),
            precision=tuple(run["dev"]["micro"]["precision"] for run in runs),
            recall=tuple(run["dev"]["micro"]["recall"] for run in runs),
            type_f1={
                name: tuple(run["dev"]["per_type"].get(name, {}).get("f1", 0.0) for run in runs)
                for name in TYPES
            },
            wall_seconds=sum(run["wall_seconds"] for run in runs),
        )
    return table


def _decay_name(decay: float | None) -> str:
    return "constant lr" if decay is None else f"lr decay {decay:g}"


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def wide_table(
    rows: Sequence[tuple[str, str, dict[float | None, Setting]]],
    table: dict[Setting, Entry],
    decays: Sequence[float | None],
) -> str:
    """Markdown: one row per (name, description), one column of micro F1 per decay; '–' where not run."""
    header = ["", "training data and order", *(f"micro F1, {_decay_name(d)}" for d in decays)]
    body = []
    for name, description, by_decay in rows:
        found = [table.get(by_decay[decay]) for decay in decays]
        body.append([name, description, *(entry.cell() if entry else "–" for entry in found)])
    return _markdown(header, body)


def phase2_rows(groups: Sequence[str], decays: Sequence[float | None]) -> list[tuple[str, str, dict]]:
    return [
        (group, GROUP_RECIPES[group][0], {decay: group_setting(group, decay) for decay in decays})
        for group in groups
    ]


def _family_order(schedule: str) -> tuple[int, float]:
    parsed = parse_schedule(schedule)
    families = ("simple-mix", "all", "sigmoid", "power", "cosine")
    rank = families.index(parsed.kind) if parsed.kind in families else len(families)
    return rank, parsed.parameter or 0.0


def _strategy_description(schedule: str) -> str:
    kind = parse_schedule(schedule).kind
    if kind == "simple-mix":
        return "distilled CoNLL + BBC, then original"
    if kind == "all":
        return "distilled CoNLL + BBC and original, both in full every epoch"
    return "distilled CoNLL + BBC shifting to original, epoch by epoch"


def phase3_rows(schedules: Sequence[str], decays: Sequence[float | None]) -> list[tuple[str, str, dict]]:
    """Rows as the paper orders them: simple mix, all, then each family by its parameter."""
    return [
        (schedule, _strategy_description(schedule), {d: strategy_setting(schedule, d) for d in decays})
        for schedule in sorted(schedules, key=_family_order)
    ]


def long_csv(rows: Sequence[tuple[str, str, dict]], table: dict[Setting, Entry], phase: str) -> str:
    """Every entry with its per-type F1 and spread, one line per (row, decay): for plotting elsewhere."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "phase", "row", "distilled", "schedule", "lr_decay", "seeds", "micro_f1_mean", "micro_f1_std",
            "micro_precision_mean", "micro_recall_mean", *(f"{t}_f1_mean" for t in TYPES), "wall_seconds",
        ]
    )  # fmt: skip
    for name, _, by_decay in rows:
        for decay, setting in by_decay.items():
            entry = table.get(setting)
            if entry is None:
                continue
            writer.writerow(
                [
                    phase, name, setting.distilled, setting.schedule, "" if decay is None else decay,
                    " ".join(map(str, entry.seeds)), f"{entry.mean:.4f}", f"{entry.std:.4f}",
                    f"{statistics.fmean(entry.precision):.4f}", f"{statistics.fmean(entry.recall):.4f}",
                    *(f"{statistics.fmean(entry.type_f1[t]):.4f}" for t in TYPES),
                    f"{entry.wall_seconds:.0f}",
                ]
            )  # fmt: skip
    return buffer.getvalue()


def teacher_table(gold: dict[str, Any]) -> str:
    """Phase 1: the teacher against the human tags, per type and micro."""
    rows = [
        [name, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}", str(s["support"])]
        for name, s in [*sorted(gold["per_type"].items()), ("micro", gold["micro"])]
    ]
    return _markdown(["type", "precision", "recall", "F1", "gold entities"], rows)


def teacher_csv(gold: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["type", "precision", "recall", "f1", "support"])
    for name, s in [*sorted(gold["per_type"].items()), ("micro", gold["micro"]), ("macro", gold["macro"])]:
        writer.writerow([name, s["precision"], s["recall"], s["f1"], s["support"]])
    return buffer.getvalue()
