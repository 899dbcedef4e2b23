"""The reproduction report: Markdown and CSV tables, PNG figures, and how they were made."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from nerd.atomic import atomic_write_text
from nerd.experiments.config import GridConfig
from nerd.experiments.figures import plot_f1_by_row, plot_schedule_curves
from nerd.experiments.grid import cells, decays
from nerd.experiments.runner import hyperparameters
from nerd.experiments.tables import (
    entries,
    long_csv,
    phase2_rows,
    phase3_rows,
    teacher_csv,
    teacher_table,
    wide_table,
)
from nerd.training.card_content import library_versions

REPORT = "reproduction.md"


def _machines(results: list[dict[str, Any]]) -> list[str]:
    """One line per machine and device the finished cells trained on, with how many cells each."""
    counts = Counter(
        ", ".join(
            [
                r.get("machine", "machine not recorded"),
                f"{r.get('device') or 'cpu'} {r.get('precision') or ''}",
            ]
        )
        for r in results
    )
    return [f"- machine: {name} ({count} cells)" for name, count in sorted(counts.items())]


def _versions(results: list[dict[str, Any]]) -> dict[str, str]:
    """The libraries the cells trained with; where cells disagree, every version seen, joined by /."""
    seen: dict[str, list[str]] = {}
    for versions in [r.get("versions") or {} for r in results] or [library_versions()]:
        for name, version in versions.items():
            if version and version not in seen.setdefault(name, []):
                seen[name].append(version)
    return {name: " / ".join(found) for name, found in seen.items()}


def write_report(
    grid: GridConfig, out: Path, results: list[dict[str, Any]], *, config_path: Path | None
) -> Path:
    """Write ``OUT/reproduction.md`` with its CSV tables and figures from the finished cells' results
    (``runner.finished_results``)."""
    table = entries(results)
    decay_list = decays(grid)
    hyper = hyperparameters(grid, None)
    sections: list[str] = ["# Reproduction of arXiv 2402.09282, phases 1-3", ""]
    total = len(cells(grid))
    wall = sum(r["wall_seconds"] for r in results)
    sections += [
        f"{len(results)} of {total} cells finished, {wall / 3600:.2f} h of training and scoring "
        f"({wall / max(1, len(results)) / 60:.1f} min per cell).",
        "",
        f"- config: `{config_path}`" if config_path else "- config: (see the command)",
        f"- dev file scored: `{grid.dev}`; original data: {', '.join(f'`{p}`' for p in grid.original)}",
        f"- seeds: {', '.join(map(str, grid.seeds))}; preset `{grid.training.preset}`: "
        f"{hyper.epochs} epochs, lr {hyper.learning_rate:g}, batch {hyper.batch_size}, "
        f"epoch scored: {hyper.epoch_selection}",
        f"- encoder: {grid.training.base_model or 'all-MiniLM-L6-v2 (the default)'}",
        *_machines(results),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in _versions(results).items() if v),
        "",
    ]

    gold_report = out / "teacher" / "conll" / "report.json"
    if gold_report.is_file():
        gold = json.loads(gold_report.read_text(encoding="utf-8")).get("gold")
        if gold:
            atomic_write_text(out / "phase1_teacher.csv", teacher_csv(gold))
            sections += [
                "## Phase 1: the teacher against gold (Table 1)",
                "",
                f"{gold['sentences']} of the teacher answers' {gold['gold_sentences']} CoNLL sentences were "
                "imported and scored against their human tags.",
                "",
                teacher_table(gold),
            ]

    rows2 = phase2_rows(grid.groups, decay_list)
    atomic_write_text(out / "phase2_groups.csv", long_csv(rows2, table, "2"))
    plot_f1_by_row(rows2, table, decay_list, "Phase 2: groups A-E", out / "phase2_groups.png")
    sections += [
        "## Phase 2: what the student learns from (Table 2)",
        "",
        "Dev micro F1, mean ± sample std (number of seeds).",
        "",
        wide_table(rows2, table, decay_list),
        "![phase 2](phase2_groups.png)",
        "",
    ]
    if grid.schedules:
        rows3 = phase3_rows(grid.schedules, decay_list)
        atomic_write_text(out / "phase3_schedules.csv", long_csv(rows3, table, "3"))
        plot_f1_by_row(rows3, table, decay_list, "Phase 3: mixing schedules", out / "phase3_schedules.png")
        plot_schedule_curves(grid.schedules, hyper.epochs, out / "schedule_curves.png")
        sections += [
            "## Phase 3: how the two sources are mixed (Table 3)",
            "",
            "Dev micro F1, mean ± sample std (number of seeds).",
            "",
            wide_table(rows3, table, decay_list),
            "![phase 3](phase3_schedules.png)",
            "",
            f"The schedules' distilled share per epoch over {hyper.epochs} epochs (the paper's Figure 3):",
            "",
            "![schedule curves](schedule_curves.png)",
            "",
        ]
    path = out / REPORT
    atomic_write_text(path, "\n".join(sections))
    return path
