"""Training runs, one per seed, into one output directory: the function behind ``nerd train``.

It prepares the data once, trains each seed (:func:`nerd.training.trainer.train_run`), skips seeds a
resumed directory has already finished, and writes the summary of several seeds. It prints nothing: an
observer (the CLI's progress display) is told what happens.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.errors import ConfigError
from nerd.training.card import read_card
from nerd.training.checkpoints import read_progress
from nerd.training.preparation import Prepared, prepare
from nerd.training.summary import write_summary
from nerd.training.trainer import Observer, RunOptions, RunResult, train_run


class RunsObserver(Observer):
    """What a display hears of a set of runs, beside each run's epochs; every method is optional."""

    @contextlib.contextmanager
    def preparing(self) -> Iterator[None]:
        """Around reading the data and checking the encoder."""
        yield

    def prepared(self, prepared: Prepared) -> None:
        """The data is read: its warnings and the schedule's plan can be shown."""

    @contextlib.contextmanager
    def seed_running(self, seed: int) -> Iterator[None]:
        """Around one seed's training."""
        yield

    def seed_skipped(self, seed: int, run_dir: Path) -> None:
        """A resumed seed that had already finished."""

    def seed_finished(self, result: RunResult) -> None:
        """One seed trained to its end."""


@dataclass
class TrainingRuns:
    """What ``nerd train`` did: each seed's result in seed order, and the summary of several seeds."""

    prepared: Prepared
    results: list[RunResult]
    summary: dict[str, Any] | None


def union(first: list[Path], second: list[Path]) -> list[Path]:
    """Both lists in order, each file once."""
    seen: dict[Path, Path] = {}
    for path in [*first, *second]:
        seen.setdefault(path.resolve(), path)
    return list(seen.values())


def run_training(
    *,
    distilled: list[Path],
    original: list[Path],
    soft: list[Path] | None = None,
    dev: Path,
    schedule: str,
    hyperparameters: Any,
    seeds: list[int],
    base_model: Path | None,
    label_map: Path | None,
    out: Path,
    resume: bool = False,
    force: bool = False,
    device: str = "auto",
    threads: int | None = None,
    keep_checkpoint: bool = False,
    observer: RunsObserver | None = None,
) -> TrainingRuns:
    """Train one run per seed into ``out`` (``out/seed-N`` with several seeds).

    Raises:
        ConfigError: contradictory options, an output directory that is not empty (without --resume or
            --force), or one that holds no nerd run to resume.
        TrainingInterrupted: Ctrl-C; the seed's last finished epoch is resumable.
    """
    observer = observer or RunsObserver()
    _check_out(out, resume, force)
    with observer.preparing():
        prepared = prepare(
            distilled=distilled,
            soft=soft or [],
            original=original,
            dev=dev,
            schedule=schedule,
            hyperparameters=hyperparameters,
            base_model=base_model,
            label_map=label_map,
        )
    observer.prepared(prepared)
    results: list[RunResult] = []
    for seed, run_dir in _run_directories(out, seeds).items():
        card = read_card(run_dir) if resume else None
        if card is not None and card.get("status") in {"complete", "early-stopped"}:
            observer.seed_skipped(seed, run_dir)
            results.append(_finished(run_dir, card))
            continue
        has_checkpoint = resume and run_dir.is_dir() and read_progress(run_dir) is not None
        if resume and not has_checkpoint and run_dir.exists() and any(run_dir.iterdir()):
            if card is None:
                raise ConfigError(f"{run_dir} holds no nerd run to resume; --force starts over there")
            shutil.rmtree(run_dir)  # stopped before its first checkpoint: nothing to keep
        options = RunOptions(
            seed=seed,
            out_dir=run_dir,
            resume=has_checkpoint,
            device=device,
            threads=threads,
            keep_checkpoint=keep_checkpoint,
        )
        with observer.seed_running(seed):
            result = train_run(prepared, options, observer)
        observer.seed_finished(result)
        results.append(result)
    summary = None
    if len(seeds) > 1:
        summary = write_summary(out, str(prepared.schedule), [_run_summary(r) for r in results])
    return TrainingRuns(prepared, results, summary)


def _run_directories(out: Path, seeds: list[int]) -> dict[int, Path]:
    if len(seeds) == 1:
        return {seeds[0]: out}
    return {seed: out / f"seed-{seed}" for seed in seeds}


def _check_out(out: Path, resume: bool, force: bool) -> None:
    if resume and force:
        raise ConfigError("--resume and --force contradict each other")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not resume:
        if not force:
            raise ConfigError(f"{out} is not empty: --resume to continue its runs, --force to start over")
        shutil.rmtree(out)


def _finished(run_dir: Path, card: dict[str, Any]) -> RunResult:
    return RunResult(
        out_dir=run_dir,
        history=card["history"],
        best_epoch=card["best_epoch"],
        best_scores=card["best_dev"],
        wall_seconds=card["wall_seconds"],
        stopped_early=card["status"] == "early-stopped",
        card=card,
    )


def _run_summary(result: RunResult) -> dict[str, Any]:
    return {
        "seed": result.card.get("seed"),
        "out_dir": str(result.out_dir),
        "best_epoch": result.best_epoch,
        "dev": result.best_scores,
        "mean_epoch_seconds": round(result.mean_epoch_seconds, 2),
        "wall_seconds": round(result.wall_seconds, 1),
    }
