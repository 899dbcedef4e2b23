"""Benchmark: seconds per training epoch over 1,000 CoNLL sentences (target: <= 8 s on 2 CPU cores, MiniLM).

Usage: python bench/train_epoch.py [--data ../shared/data] [--epochs 3] [--preset cpu] [--baseline]
Trains the ``original`` schedule on ``paper-split/gold_1000.conll`` through ``nerd train``'s own loop and
reports each epoch's training time (dev scoring excluded; a 50-sentence dev slice keeps it short). The
first epoch includes the one-off set-up of the CPU kernels for each new shape, so the median of the later
epochs is the figure. ``--baseline`` also times the plain setting (fp32, every weight trained, batch 16).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from nerd.training.devices import available_cores
from nerd.training.preparation import prepare
from nerd.training.presets import PRESETS, Hyperparameters
from nerd.training.trainer import RunOptions, train_run

PLAIN = Hyperparameters(epochs=3, learning_rate=5e-5, batch_size=16, max_length=128, precision="fp32")


def time_epochs(hyper: Hyperparameters, gold: Path, dev: Path, scratch: Path) -> list[float]:
    prepared = prepare(
        distilled=[],
        original=[gold],
        dev=dev,
        schedule="original",
        hyperparameters=hyper,
        base_model=None,
        label_map=None,
    )
    result = train_run(prepared, RunOptions(seed=1, out_dir=scratch, device="cpu"))
    return [row["train_seconds"] for row in result.history]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--preset", default="cpu", choices=sorted(PRESETS))
    parser.add_argument("--baseline", action="store_true")
    args = parser.parse_args()
    gold = args.data / "paper-split" / "gold_1000.conll"
    valid = args.data / "conll2003" / "valid.txt"
    if not gold.is_file() or not valid.is_file():
        sys.stderr.write(f"shared data not found under {args.data}\n")
        return 2
    settings = {args.preset: PRESETS[args.preset].model_copy(update={"epochs": args.epochs})}
    if args.baseline:
        settings["plain-fp32"] = PLAIN.model_copy(update={"epochs": args.epochs})
    report: dict[str, object] = {"cores": available_cores(), "sentences": 1000}
    with tempfile.TemporaryDirectory() as scratch:
        dev = Path(scratch) / "dev.conll"
        dev.write_text("\n\n".join(valid.read_text(encoding="utf-8").split("\n\n")[:51]) + "\n\n")
        for name, hyper in settings.items():
            epochs = time_epochs(hyper, gold, dev, Path(scratch) / name)
            later = epochs[1:] or epochs
            report[name] = {"epoch_seconds": epochs, "median_after_first": round(statistics.median(later), 2)}
            sys.stdout.write(
                f"{name}: epochs {epochs} s; median after the first {statistics.median(later):.2f} s\n"
            )
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
