"""The typed records a training run passes between its modules: an epoch's row of the history, and
the progress a checkpoint keeps. Both are written as JSON (the card, ``progress.json``) exactly as
these dictionaries hold them."""

from __future__ import annotations

from typing import TypedDict

from nerd.scoring import Scores


class EpochRecord(TypedDict):
    """One epoch of a run: what it trained on, its loss and dev scores, and its time."""

    epoch: int  # 1-based
    w0: float  # the schedule's weight of the distilled source
    w1: float  # and of the original source
    distilled_sentences: int
    original_sentences: int
    windows: int
    batches: int
    learning_rate: float
    loss: float | None
    train_seconds: float
    eval_seconds: float
    dev: Scores | None  # None when the epoch was not scored (epoch selection 'last')


class Progress(TypedDict):
    """What a checkpoint records of its run, so that a resume carries on where it stopped."""

    fingerprint: str
    epochs_done: int
    best_epoch: int
    best_f1: float
    history: list[EpochRecord]
    wall_seconds: float
