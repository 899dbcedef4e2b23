"""The reproduction report: Markdown and CSV tables, PNG figures, and how they were made."""

from __future__ import annotations

import json
import platform
from pathlib import Path

from nerd.atomic import atomic_write_text
from nerd.experiments.config import GridConfig
from nerd.experiments.figures import plot_f1_by_row, plot_schedule_curves
from nerd.experiments.grid import cells, decays
from nerd.experiments.runner import hyperparameters, read_result
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
from nerd.training.devices import available_cores

REPORT = "reproduction.md"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _machine() -> str:
    return f"{_cpu_name()}, {available_cores()} cores usable, {platform.system()} {platform.release()}"


def write_report(grid: GridConfig, out: Path, *, config_path: Path | None) -> Path:
    """Write ``OUT/reproduction.md`` with its CSV tables and figures from the finished cells."""
    results = [r for r in (read_result(out, cell) for cell in cells(grid)) if r is not None]
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
        f"- machine: {_machine()}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in library_versions().items() if v),
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
