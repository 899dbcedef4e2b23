"""One training run: a seed, a schedule over the two sources, dev scores after every epoch.

:func:`train_run` drives :func:`nerd.training.loop.train_while_improving`: for each epoch the loop
yields, it keeps the best weights (a ``save_pretrained`` directory), writes a checkpoint, tells the
observer, and at the end writes the card and plots. Ctrl-C leaves the last finished epoch resumable.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerd.errors import NerdError
from nerd.scoring import Scores
from nerd.training.base_model import offline
from nerd.training.card import write_card
from nerd.training.card_content import build_card
from nerd.training.checkpoints import remove_checkpoint, save_best, save_checkpoint
from nerd.training.loop import EpochStep, LoopObserver, dev_evaluator, epoch_batches, train_while_improving
from nerd.training.model_setup import TrainingState, set_up
from nerd.training.plots import plot_learning_curves, plot_schedule
from nerd.training.preparation import Prepared
from nerd.training.records import EpochRecord, Progress


class TrainingInterrupted(NerdError):
    """Ctrl-C during training: the last finished epoch's checkpoint is intact and can be resumed."""


@dataclass(frozen=True)
class RunOptions:
    """How and where one seed runs."""

    seed: int
    out_dir: Path
    resume: bool = False
    device: str = "auto"  # auto, cpu or cuda
    threads: int | None = None
    keep_checkpoint: bool = False


class Observer(LoopObserver):
    """Hooks for progress display; every method is optional."""

    def run_started(self, seed: int, start_epoch: int, epochs: int) -> None:
        """Called once, after a resume is resolved."""

    def epoch_done(self, record: EpochRecord) -> None:
        """Called with the epoch's history row."""


@dataclass
class RunResult:
    """What a finished run reports."""

    out_dir: Path
    history: list[EpochRecord]
    best_epoch: int
    best_scores: Scores
    wall_seconds: float
    stopped_early: bool = False
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def mean_epoch_seconds(self) -> float:
        trained = [row["train_seconds"] for row in self.history if row["batches"]]
        return sum(trained) / len(trained) if trained else 0.0


def fingerprint(prepared: Prepared, seed: int) -> str:
    """A digest of everything that decides the run's result, so a resume cannot mix two runs."""
    facts = {
        "files": {
            source.role: [f.sha256 for f in source.files]
            for source in (prepared.distilled, prepared.soft, prepared.original, prepared.dev)
            if source is not None
        },
        "schedule": str(prepared.schedule),
        "hyperparameters": prepared.hyperparameters.model_dump(),
        "labels": prepared.label_space.labels,
        "label_map": prepared.label_map,
        "base_model": str(prepared.base_model.path.resolve()),
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def train_run(prepared: Prepared, options: RunOptions, observer: Observer | None = None) -> RunResult:
    """Train one seed into ``options.out_dir``; resumes from its checkpoint when asked.

    Raises:
        TrainingInterrupted: Ctrl-C; the directory holds the last finished epoch's checkpoint.
        ConfigError, InputError: a checkpoint that does not belong to this run, unloadable weights.
    """
    offline()
    observer = observer or Observer()
    started = time.perf_counter()
    out_dir = options.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = fingerprint(prepared, options.seed)
    state, resumed = set_up(
        prepared, options.seed, options.device, options.threads, out_dir if options.resume else None, digest
    )
    main = state.accelerator.is_main_process
    if main and not options.resume:
        prepared.base_model.tokenizer.save_pretrained(out_dir)
    observer.run_started(options.seed, resumed.start_epoch, prepared.hyperparameters.epochs)
    # The driver's tally of the run: the loop yields epochs, this keeps (and saves) what they add up to.
    tally = Tally(list(resumed.history), resumed.best_epoch, resumed.best_f1)

    def wall() -> float:
        return resumed.elapsed_before + time.perf_counter() - started

    epochs = epoch_batches(prepared, options.seed, state.accelerator, resumed.start_epoch)
    loop = train_while_improving(
        prepared, options.seed, state, epochs, dev_evaluator(prepared, state), observer, resumed
    )
    try:
        for step in loop:
            tally.add(step)
            if main:  # every process holds the same weights and verdict: one writes
                if step.is_best:
                    save_best(state.bare_model, out_dir)
                save_checkpoint(out_dir, state.bare_model, state.optimizer, _progress(tally, digest, wall()))
            state.accelerator.wait_for_everyone()
            observer.epoch_done(step.record)
    except KeyboardInterrupt:
        if main:
            _write_card(prepared, options, state, tally, "interrupted", wall())
        done = len(tally.history)
        raise TrainingInterrupted(
            f"interrupted during epoch {done + 1}; {out_dir} holds the checkpoint of epoch {done}: "
            "run the same command with --resume to continue"
            if done
            else f"interrupted during the first epoch; nothing to resume in {out_dir}"
        ) from None

    # The loop returns before the last epoch only when dev stopped improving.
    stopped_early = len(tally.history) < prepared.hyperparameters.epochs
    result_card: dict[str, Any] = {}
    if main:
        status = "early-stopped" if stopped_early else "complete"
        result_card = _write_card(prepared, options, state, tally, status, wall())
        plot_schedule(prepared.plan, str(prepared.schedule), out_dir / "schedule.png")
        plot_learning_curves(tally.history, out_dir / "learning_curves.png")
        if not options.keep_checkpoint:
            remove_checkpoint(out_dir)
    best = next(row for row in tally.history if row["epoch"] == tally.best_epoch)
    return RunResult(
        out_dir=out_dir,
        history=tally.history,
        best_epoch=tally.best_epoch,
        best_scores=best["dev"],
        wall_seconds=wall(),
        stopped_early=stopped_early,
        card=result_card,
    )


@dataclass
class Tally:
    """The run's epochs so far and its best one (what checkpoints and the card record)."""

    history: list[EpochRecord]
    best_epoch: int
    best_f1: float

    def add(self, step: EpochStep) -> None:
        self.history.append(step.record)
        dev = step.record["dev"]
        if step.is_best and dev is not None:
            self.best_epoch, self.best_f1 = step.record["epoch"], dev["micro"]["f1"]


def _progress(tally: Tally, digest: str, wall_seconds: float) -> Progress:
    """What a checkpoint records of the run, so that a resume carries on where it stopped."""
    return {
        "fingerprint": digest,
        "epochs_done": len(tally.history),
        "best_epoch": tally.best_epoch,
        "best_f1": tally.best_f1,
        "history": tally.history,
        "wall_seconds": wall_seconds,
    }


def _write_card(
    prepared: Prepared,
    options: RunOptions,
    state: TrainingState,
    tally: Tally,
    status: str,
    wall_seconds: float,
) -> dict[str, Any]:
    card = build_card(
        prepared,
        options.seed,
        tally.history,
        tally.best_epoch,
        status,
        wall_seconds,
        state.device,
        state.precision,
        processes=state.accelerator.num_processes,
    )
    write_card(options.out_dir, card)
    return card
