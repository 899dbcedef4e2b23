"""Several seeds of one configuration summarised as mean ± std, in the layout of the paper's Table 2.

The standard deviation is the sample one (n - 1 in the denominator): a handful of seeds estimates the
spread of all seeds, it is not the whole population.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nerd.atomic import atomic_write_text

METRICS = ("precision", "recall", "f1")
AVERAGES = ("micro", "macro", "weighted")


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": round(statistics.fmean(values), 4),
        "std": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
    }


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean ± std over runs of each type's and each average's precision, recall and F1.

    ``runs`` are ``{"seed": n, "best_epoch": e, "dev": scores, ...}``; a type missing from a run's
    scores counts as 0 there (the model never predicted it and the dev set has none).
    """
    types = sorted({name for run in runs for name in run["dev"]["per_type"]})
    table: dict[str, Any] = {"per_type": {}}
    for name in types:
        table["per_type"][name] = {
            metric: _spread([run["dev"]["per_type"].get(name, {}).get(metric, 0.0) for run in runs])
            for metric in METRICS
        }
    for average in AVERAGES:
        table[average] = {
            metric: _spread([run["dev"][average][metric] for run in runs]) for metric in METRICS
        }
    return table


def summary_markdown(summary: dict[str, Any]) -> str:
    """Rows of types then averages; precision, recall and F1 as mean ± std (Table 2's layout)."""
    table = summary["table"]
    lines = [
        f"# {summary['schedule']} over seeds {', '.join(str(s) for s in summary['seeds'])}",
        "",
        "| | precision | recall | F1 |",
        "|---|---:|---:|---:|",
    ]
    rows = [*table["per_type"].items(), *((f"{name} avg", table[name]) for name in AVERAGES)]
    for name, cells in rows:
        values = " | ".join(f"{cells[m]['mean']:.4f} ± {cells[m]['std']:.4f}" for m in METRICS)
        lines.append(f"| {name} | {values} |")
    lines += [
        "",
        "| seed | best epoch | dev micro F1 | mean epoch s | wall s |",
        "|---:|---:|---:|---:|---:|",
    ]
    for run in summary["runs"]:
        lines.append(
            f"| {run['seed']} | {run['best_epoch']} | {run['dev']['micro']['f1']:.4f} | "
            f"{run['mean_epoch_seconds']:.1f} | {run['wall_seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def write_summary(out_dir: Path, schedule: str, runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Write ``summary.json`` and ``summary.md`` for the runs of one configuration."""
    summary = {
        "schedule": schedule,
        "seeds": [run["seed"] for run in runs],
        "table": summarise(runs),
        "runs": list(runs),
    }
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out_dir / "summary.md", summary_markdown(summary))
    return summary
