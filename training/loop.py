"""The training loop as a generator, after spaCy's ``train_while_improving``: given the epochs' batches
and an ``evaluate`` callback, it trains one epoch at a time and yields what happened (the epoch's
history row and whether its dev score is the best so far), keeping its own tally; the driver
(:func:`nerd.training.trainer.train_run`) alone decides what to save, show and write.

The loop is plain PyTorch driven by ``accelerate`` (device placement, mixed precision, and several GPUs
under ``accelerate launch`` or ``torchrun``), so the same code runs on a laptop CPU and a GPU node.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from nerd.scoring import Scores, entity_scores
from nerd.training.features import Feature
from nerd.training.length_buckets import collate, shard, training_batches
from nerd.training.loss import batch_loss
from nerd.training.model_setup import Resumed, TrainingState
from nerd.training.prediction import predict_tags
from nerd.training.preparation import Prepared
from nerd.training.records import EpochRecord
from nerd.training.schedules import epoch_indices
from nerd.word_shapes import lowered


class LoopObserver:
    """Hooks for progress display inside an epoch; every method is optional."""

    def epoch_started(self, epoch: int, epochs: int, batches: int) -> None:
        """Called before the first step of an epoch (``epoch`` is 1-based)."""

    def batch_done(self, loss: float) -> None:
        """Called after every optimizer step."""

    def evaluation_started(self, windows: int) -> None:
        """Called before the dev set is scored."""


@dataclass(frozen=True)
class EpochStep:
    """One finished epoch: its history row, and whether its dev score is the best so far."""

    record: EpochRecord
    is_best: bool


@dataclass(frozen=True)
class EpochBatches:
    """One epoch's work: its (0-based) number, learning rate, the sentences the schedule drew, their
    windows and the batches of window indices this process trains."""

    epoch: int
    learning_rate: float
    distilled: list[int]
    original: list[int]
    windows: list[Feature]
    batches: list[list[int]]


def epoch_batches(
    prepared: Prepared, seed: int, accelerator: Any, start_epoch: int = 0
) -> Iterator[EpochBatches]:
    """The epochs from ``start_epoch`` on, as the schedule and the seed make them (the same batches for a
    resumed run: the seeds derive from (seed, epoch))."""
    hyper = prepared.hyperparameters
    plan = epoch_indices(
        prepared.plan, len(prepared.distilled_features), len(prepared.original_features), seed
    )
    for epoch in range(start_epoch, hyper.epochs):
        distilled, original = plan[epoch]
        windows = _epoch_windows(prepared, distilled, original)
        batches = training_batches(
            [len(w) for w in windows], hyper.batch_size, random.Random(f"{seed}/{epoch}")
        )
        batches = shard(batches, accelerator.process_index, accelerator.num_processes)
        yield EpochBatches(epoch, hyper.learning_rate_at(epoch), distilled, original, windows, batches)


def dev_evaluator(prepared: Prepared, state: TrainingState) -> Callable[[], Scores]:
    """The callback that scores the dev set with the weights as they are now."""
    dev_tags = [list(example.tags) for example in prepared.dev.examples]
    dev_lengths = [len(example.tokens) for example in prepared.dev.examples]

    def evaluate() -> Scores:
        bare = state.bare_model
        if state.scorer is not None:
            state.scorer.load_state_dict(bare.state_dict())
        with state.accelerator.autocast():
            predicted = predict_tags(
                state.scorer or bare,
                prepared.dev_features,
                dev_lengths,
                prepared.label_space,
                batch_size=prepared.hyperparameters.eval_batch_size,
                pad_id=state.pad_id,
                device=state.accelerator.device,
            )
        return entity_scores(dev_tags, predicted)

    return evaluate


def train_while_improving(
    prepared: Prepared,
    seed: int,
    state: TrainingState,
    epochs: Iterable[EpochBatches],
    evaluate: Callable[[], Scores],
    observer: LoopObserver,
    resumed: Resumed | None = None,
) -> Iterator[EpochStep]:
    """Train the given epochs one after another, yielding each finished one; stops early (returns)
    when dev has not improved for ``patience`` epochs. The tally of the best epoch is the loop's own,
    started from ``resumed``."""
    import torch

    hyper = prepared.hyperparameters
    resumed = resumed or Resumed()
    best_epoch, best_f1, trained = resumed.best_epoch, resumed.best_f1, bool(resumed.history)
    for work in epochs:
        epoch = work.epoch
        if hyper.patience is not None and trained and epoch - best_epoch >= hyper.patience:
            return
        for group in state.optimizer.param_groups:
            group["lr"] = work.learning_rate
        torch.manual_seed(seed * 100_003 + epoch)
        observer.epoch_started(epoch + 1, hyper.epochs, len(work.batches))
        tick = time.perf_counter()
        losses = _train_epoch(prepared, state, work, random.Random(f"{seed}/{epoch}/case"), observer)
        train_seconds = time.perf_counter() - tick
        scores = None
        tick = time.perf_counter()
        if hyper.epoch_selection == "best" or epoch == hyper.epochs - 1:
            observer.evaluation_started(len(prepared.dev_features))
            scores = evaluate()
        record: EpochRecord = {
            "epoch": epoch + 1,
            "w0": round(prepared.plan[epoch][0], 6),
            "w1": round(prepared.plan[epoch][1], 6),
            "distilled_sentences": len(work.distilled),
            "original_sentences": len(work.original),
            "windows": len(work.windows),
            "batches": len(work.batches),
            "learning_rate": work.learning_rate,
            "loss": round(sum(losses) / len(losses), 6) if losses else None,
            "train_seconds": round(train_seconds, 3),
            "eval_seconds": round(time.perf_counter() - tick, 3),
            "dev": scores,
        }
        trained = True
        # Every process scores the same weights, so all agree on the best epoch.
        is_best = scores is not None and scores["micro"]["f1"] > best_f1
        if is_best:
            best_epoch, best_f1 = epoch + 1, scores["micro"]["f1"]
        yield EpochStep(record, is_best)


def _train_epoch(
    prepared: Prepared,
    state: TrainingState,
    work: EpochBatches,
    hidden_case: random.Random,
    observer: LoopObserver,
) -> list[float]:
    """One pass over the epoch's batches; returns each step's loss."""
    hyper = prepared.hyperparameters
    accelerator = state.accelerator
    state.model.train()
    losses: list[float] = []
    for batch in work.batches:
        chosen = [work.windows[i] for i in batch]
        if hyper.case_dropout:
            hide = [hidden_case.random() < hyper.case_dropout for _ in chosen]
            chosen = [_case_dropped(w) if hidden else w for w, hidden in zip(chosen, hide, strict=True)]
        inputs = {k: v.to(accelerator.device) for k, v in collate(chosen, state.pad_id).items()}
        loss = batch_loss(state.model, inputs, hyper.soft_temperature)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(state.model.parameters(), hyper.max_grad_norm)
        state.optimizer.step()
        state.optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        observer.batch_done(losses[-1])
    return losses


def _case_dropped(window: Feature) -> Feature:
    """The window as its words would read lower-cased: only the shapes change (the tokenizer is uncased)."""
    return replace(window, shape_ids=lowered(window.shape_ids or []))


def _epoch_windows(prepared: Prepared, distilled: list[int], original: list[int]) -> list[Feature]:
    windows = [w for i in distilled for w in prepared.distilled_features[i]]
    windows.extend(w for i in original for w in prepared.original_features[i])
    return windows
