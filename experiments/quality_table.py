"""The ablation table of ``docs/quality.md`` from what ``experiments/quality.sh`` left in its directory.

    python -m nerd.experiments.quality_table out/quality

For each row (a directory of ``seed-N`` runs) it reads every finished seed's ``nerd evaluate --json``
reports (the checkpoint in PyTorch, the int8 bundle with Viterbi and with arg-max decoding) and the
training card's wall time, and prints Markdown: dev micro F1 as mean ± sample std over the seeds, the
per-type F1 of the int8 bundles, and each step's time. Nothing is computed that was not measured: a
seed without its reports is left out and the seed count says so.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROWS = {
    "baseline": "paper's simple mix: LLM answers, then 1,000 gold",
    "student": "MPNet teacher's soft labels (CoNLL + BBC pool), then 1,000 gold",
    "student-t2": "the same, soft labels learnt at temperature 2",
    "student-long": "the same, 5 + 5 epochs, rate x0.8 an epoch, word embeddings trained",
    "baseline-filled": "paper's simple mix, the answers' gaps filled by a gold-trained MiniLM",
}
REPORTS = {"fp32": "evaluate-fp32.json", "int8": "evaluate-int8.json", "argmax": "evaluate-argmax.json"}


def read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def mean_std(values: Sequence[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.4f} (1 seed)"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def seeds_of(
    row: Path, reports: dict[str, str] = REPORTS, required: Sequence[str] = ("int8",)
) -> list[dict[str, Any]]:
    """Per finished seed that has the ``required`` reports: its card and every report (None if missing),
    by the names of ``reports`` (name -> file in the seed's directory)."""
    found = []
    for run in sorted(row.glob("seed-*")):
        card = read_json(run / "training_card.json")
        read = {name: read_json(run / file) for name, file in reports.items()}
        if card is None or card.get("status") != "complete" or any(read[name] is None for name in required):
            continue
        found.append({"seed": run.name, "card": card, **read})
    return found


def table(out: Path) -> str:
    lines = [
        "| row | seeds | PyTorch fp32, Viterbi | int8, Viterbi | int8, arg-max | train min / seed |",
        "|---|---|---|---|---|---|",
    ]
    per_type: dict[str, dict[str, list[float]]] = {}
    for name, description in ROWS.items():
        seeds = seeds_of(out / name)
        scores = {
            kind: [s[kind]["micro"]["f1"] for s in seeds if s.get(kind) is not None] for kind in REPORTS
        }
        minutes = [s["card"]["wall_seconds"] / 60 for s in seeds]
        lines.append(
            f"| {description} | {len(seeds)} | {mean_std(scores['fp32'])} | {mean_std(scores['int8'])} | "
            f"{mean_std(scores['argmax'])} | {statistics.mean(minutes):.1f} |"
            if seeds
            else f"| {description} | 0 | – | – | – | – |"
        )
        for seed in seeds:
            for label, values in seed["int8"]["per_type"].items():
                per_type.setdefault(name, {}).setdefault(label, []).append(values["f1"])
    labels = sorted({label for row in per_type.values() for label in row})
    if labels:
        lines += ["", "Per type, int8 with Viterbi (F1, mean ± std over the seeds):", ""]
        lines += ["| row | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
        for name, row in per_type.items():
            lines.append(f"| {name} | " + " | ".join(mean_std(row.get(label, [])) for label in labels) + " |")
    teacher = read_json(out / "mpnet-teacher" / "training_card.json")
    if teacher is not None:
        best = teacher.get("best_dev") or {}
        lines += [
            "",
            f"Teacher (MPNet, seed {teacher['seed']}): dev micro F1 {best.get('micro', {}).get('f1', 0):.4f} "
            f"at epoch {teacher['best_epoch']} (PyTorch, Viterbi), {teacher['wall_seconds'] / 60:.1f} min.",
        ]
    for pool in ("soft-conll", "soft-bbc"):
        report = read_json(out / pool / "report.json")
        if report is not None:
            lines.append(
                f"Labelling {report['input']}: {report['records']} sentences, {report['words']} words in "
                f"{report['seconds'] / 60:.1f} min; entities {report['entities']}; mean word confidence "
                f"{report['mean_word_confidence']}."
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The quality ablation table from experiments/quality.sh.")
    parser.add_argument("out", type=Path, help="the directory quality.sh wrote (OUT)")
    print(table(parser.parse_args(argv).out), end="")  # noqa: T201


if __name__ == "__main__":
    main()
