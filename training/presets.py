"""Hyperparameters and the named presets a run starts from (options override single values).

``paper`` is the paper's setting (arXiv 2402.09282, section 4.1): 20 epochs, a constant learning rate
of 1e-5, batch 4, sequences up to 128 sub-tokens; the 0.95 per-epoch decay it also reports is
``--lr-decay 0.95``. It was chosen for BERT-base on a GPU. ``cpu`` suits a small encoder (MiniLM-L6)
on a few CPU cores: larger batches keep the cores busy and a larger rate makes up for fewer updates;
dropout is off because the CPU's random-number generator made its masks a third of the epoch time,
and 12 epochs on 1,000 sentences did not need it (dev F1 within a seed's spread either way). Its
values were measured on the shared data (see the README).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Hyperparameters(BaseModel):
    """What one training run needs besides its data, schedule and seed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(ge=1, le=10_000, description="Epochs (T of the schedule).")
    learning_rate: float = Field(gt=0, le=1)
    batch_size: int = Field(ge=1, le=65_536, description="Windows per optimizer step.")
    max_length: int = Field(
        ge=8,
        le=65_536,
        description="Sub-tokens per window, special tokens included; longer sentences are split.",
    )
    lr_decay: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Multiply the learning rate by this after every epoch (paper: 0.95).",
    )
    weight_decay: float = Field(default=0.0, ge=0)
    max_grad_norm: float = Field(default=1.0, gt=0)
    label_all_subtokens: bool = Field(
        default=False,
        description="Train on every sub-token (I- after a B- word start) instead of each word's first only.",
    )
    freeze_embeddings: bool = Field(
        default=False,
        description=(
            "Keep the word-embedding matrix fixed. Default: the preset's (paper: trained, cpu: fixed)."
        ),
    )
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        default="fp32",
        description=(
            "Compute precision (weights stay fp32): auto is bf16 where the CPU or GPU has it "
            "natively. Default: the preset's (paper fp32, cpu auto)."
        ),
    )
    dropout: float | None = Field(
        default=None,
        ge=0,
        lt=1,
        description=(
            "Dropout probability of every dropout layer in the encoder. Default: the preset's (paper: "
            "the encoder's own, cpu: 0)."
        ),
    )
    soft_temperature: float = Field(
        default=1.0,
        gt=0,
        le=100,
        description=(
            "Temperature the soft labels are learnt at (above 1 flattens them; the loss is scaled by "
            "its square). Default: 1."
        ),
    )
    # Both absent from the dump when off, so that runs without them keep their fingerprints and cards.
    word_shapes: bool = Field(
        default=False,
        exclude_if=lambda value: not value,
        description=(
            "Give the model each word's capitalisation (lower, Title, UPPER, mixed, digits, other) as its "
            "token type: what an uncased tokenizer throws away. Needs an encoder with token-type "
            "embeddings (BERT, ELECTRA, RoBERTa, ...); the exported model computes them from the text."
        ),
    )
    case_dropout: float = Field(
        default=0.0,
        ge=0,
        le=1,
        exclude_if=lambda value: value == 0,
        description=(
            "With --word-shapes: the share of training windows shown as if lower-cased (every epoch "
            "draws anew), so that the model does not fall apart on text without capitals."
        ),
    )
    eval_batch_size: int = Field(default=64, ge=1)
    patience: int | None = Field(
        default=None, ge=1, description="Stop after this many epochs without a better dev F1."
    )
    epoch_selection: Literal["best", "last"] = Field(
        default="best",
        description=(
            "best: score dev after every epoch and keep the best epoch; last: train every epoch, then "
            "score and keep the final one (faster; no choice made on the dev set, as in the paper)."
        ),
    )

    @model_validator(mode="after")
    def _case_dropout_needs_shapes(self) -> Hyperparameters:
        if self.case_dropout > 0 and not self.word_shapes:
            raise ValueError("case dropout hides word shapes: it needs word shapes (--word-shapes)")
        return self

    @model_validator(mode="after")
    def _patience_needs_scores(self) -> Hyperparameters:
        if self.patience is not None and self.epoch_selection == "last":
            raise ValueError("patience needs a dev score after every epoch (epoch selection 'best')")
        return self

    def learning_rate_at(self, epoch: int) -> float:
        """The rate of a 0-based epoch: constant, or decayed by ``lr_decay`` once per epoch."""
        return self.learning_rate * (self.lr_decay or 1.0) ** epoch


PRESETS: dict[str, Hyperparameters] = {
    "paper": Hyperparameters(epochs=20, learning_rate=1e-5, batch_size=4, max_length=128),
    "cpu": Hyperparameters(
        epochs=12,
        learning_rate=1e-4,
        batch_size=32,
        max_length=128,
        freeze_embeddings=True,
        precision="auto",
        dropout=0.0,
    ),
}
