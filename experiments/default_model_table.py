"""The default model's ablation (``docs/quality.md``) from what ``experiments/default_model.sh`` left.

    python -m nerd.experiments.default_model_table out/default

For each row (a directory of ``seed-N`` runs) it reads every finished seed's ``nerd evaluate --json``
reports of the int8 bundle (CoNLL dev on its tokens and as raw text, lower- and upper-cased dev, BTC
section G) and the training card's wall time, and prints Markdown: micro F1 as mean ± sample std over
the seeds. A seed without its reports is left out, and the seed count says so.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nerd.experiments.quality_table import mean_std, read_json, seeds_of

ROWS = {
    "plain": "MiniLM on CoNLL train (the model before word shapes)",
    "shapes-0.3": "the same with word shapes, 30% of windows lower-cased, sentences in capitals as they are",
    "shapes-0.3-caps": "word shapes, 30% of windows lower-cased, sentences in capitals read as lower-cased",
    "shapes": "word shapes, half the windows lower-cased, sentences in capitals read as lower-cased",
    "distilled": (
        "word shapes, 30% lower-cased, capitals rule; MPNet teacher's soft labels of CoNLL train"
        " and BBC articles, then the gold tags"
    ),
}
REPORTS = {
    "dev": "evaluate-int8.json",
    "lower": "evaluate-lower.json",
    "upper": "evaluate-upper.json",
    "btc": "evaluate-btc.json",
}


def _f1s(seeds: Sequence[dict[str, Any]], report: str, raw: bool = False) -> list[float]:
    if raw:
        return [seed[report]["raw_text"]["scores"]["micro"]["f1"] for seed in seeds]
    return [seed[report]["micro"]["f1"] for seed in seeds]


def table(out: Path) -> str:
    lines = [
        "| row | seeds | CoNLL dev | dev as raw text | dev lower-cased | dev upper-cased | BTC G | "
        "BTC G as raw text | train min / seed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, description in ROWS.items():
        seeds = seeds_of(out / name, REPORTS, required=tuple(REPORTS))
        if not seeds:
            lines.append(f"| {description} | 0 | – | – | – | – | – | – | – |")
            continue
        minutes = statistics.mean(seed["card"]["wall_seconds"] / 60 for seed in seeds)
        cells = [
            _f1s(seeds, "dev"),
            _f1s(seeds, "dev", raw=True),
            _f1s(seeds, "lower"),
            _f1s(seeds, "upper"),
            _f1s(seeds, "btc"),
            _f1s(seeds, "btc", raw=True),
        ]
        row = " | ".join(mean_std(values) for values in cells)
        lines.append(f"| {description} | {len(seeds)} | {row} | {minutes:.1f} |")
    teacher = read_json(out / "teacher" / "training_card.json")
    if teacher is not None:
        best = teacher.get("best_dev") or {}
        lines += [
            "",
            f"Teacher (MPNet, seed {teacher['seed']}, {teacher.get('status')}): dev micro F1 "
            f"{best.get('micro', {}).get('f1', 0):.4f} at epoch {teacher['best_epoch']} (PyTorch, Viterbi), "
            f"{teacher['wall_seconds'] / 60:.1f} min.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The default model's ablation from default_model.sh.")
    parser.add_argument("out", type=Path, help="the directory default_model.sh wrote (OUT)")
    print(table(parser.parse_args(argv).out), end="")  # noqa: T201


if __name__ == "__main__":
    main()
