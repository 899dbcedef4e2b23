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
from nerd.training.checkpoints import remove_checkpoint, save_checkpoint
from nerd.training.loop import LoopObserver, TrainingState, save_best, set_up, train_while_improving
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
    state = set_up(
        prepared, options.seed, options.device, options.threads, out_dir if options.resume else None, digest
    )
    main = state.accelerator.is_main_process
    if main and not options.resume:
        prepared.base_model.tokenizer.save_pretrained(out_dir)
    observer.run_started(options.seed, state.start_epoch, prepared.hyperparameters.epochs)

    def wall() -> float:
        return state.elapsed_before + time.perf_counter() - started

    try:
        for step in train_while_improving(prepared, options.seed, state, observer):
            if main:  # every process holds the same weights and verdict: one writes
                if step.is_best:
                    save_best(state.bare_model, out_dir)
                save_checkpoint(out_dir, state.bare_model, state.optimizer, _progress(state, digest, wall()))
            state.accelerator.wait_for_everyone()
            observer.epoch_done(step.record)
    except KeyboardInterrupt:
        if main:
            _write_card(prepared, options, state, "interrupted", wall())
        done = len(state.history)
        raise TrainingInterrupted(
            f"interrupted during epoch {done + 1}; {out_dir} holds the checkpoint of epoch {done}: "
            "run the same command with --resume to continue"
            if done
            else f"interrupted during the first epoch; nothing to resume in {out_dir}"
        ) from None

    result_card: dict[str, Any] = {}
    if main:
        status = "early-stopped" if state.stopped_early else "complete"
        result_card = _write_card(prepared, options, state, status, wall())
        plot_schedule(prepared.plan, str(prepared.schedule), out_dir / "schedule.png")
        plot_learning_curves(state.history, out_dir / "learning_curves.png")
        if not options.keep_checkpoint:
            remove_checkpoint(out_dir)
    best = next(row for row in state.history if row["epoch"] == state.best_epoch)
    return RunResult(
        out_dir=out_dir,
        history=state.history,
        best_epoch=state.best_epoch,
        best_scores=best["dev"],
        wall_seconds=wall(),
        stopped_early=state.stopped_early,
        card=result_card,
    )


def _progress(state: TrainingState, digest: str, wall_seconds: float) -> Progress:
    """What a checkpoint records of the run, so that a resume carries on where it stopped."""
    return {
        "fingerprint": digest,
        "epochs_done": len(state.history),
        "best_epoch": state.best_epoch,
        "best_f1": state.best_f1,
        "history": state.history,
        "wall_seconds": wall_seconds,
    }


def _write_card(
    prepared: Prepared, options: RunOptions, state: TrainingState, status: str, wall_seconds: float
) -> dict[str, Any]:
    card = build_card(
        prepared,
        options.seed,
        state.history,
        state.best_epoch,
        status,
        wall_seconds,
        state.device,
        state.precision,
        processes=state.accelerator.num_processes,
    )
    write_card(options.out_dir, card)
    return card
