"""How words get their labels, and what a tagger answers: the choices a request (or a run) makes.

``ReadingSettings`` are the serving defaults (``NERD_AGGREGATION``, ``NERD_DECODING``,
``NERD_MAX_BATCH_SIZE``, ``NERD_STRIDE``, ``NERD_RUNTIME``):
``nerd serve`` reads them as part of its settings, and
``nerd evaluate`` reads the same ones, so a bundle is scored the way it is served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from nerd.decoding import DEFAULT_DECODING, Decoding
from nerd.tagging.runtime_choice import RUNTIME_HELP, Runtime

Aggregation = Literal["first", "average", "max"]


class ReadingSettings(BaseSettings):
    """How the service reads texts; each field is ``NERD_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="NERD_", env_file=".env", extra="ignore")

    aggregation: Aggregation = "first"
    decoding: Decoding = Field(
        default=DEFAULT_DECODING, description="viterbi (valid IOB2 sequences) or argmax; a request may choose"
    )
    stride: int = Field(default=32, ge=0, description="sub-tokens of overlap between windows of long texts")
    max_batch_size: int = Field(
        default=32, ge=1, le=1024, description="Texts per model call (NERD_MAX_BATCH_SIZE)."
    )
    runtime: Runtime = Field(default="onnxruntime", description=RUNTIME_HELP + " (NERD_RUNTIME)")


@dataclass(frozen=True)
class Reading:
    """How words get their labels: sub-token aggregation and sequence decoding (a request may choose)."""

    aggregation: Aggregation = "first"
    decoding: Decoding = DEFAULT_DECODING


@dataclass(frozen=True)
class WordPredictions:
    """One sentence's word labels (valid IOB2), each label's probability, and whether a limit cut it."""

    tags: list[str]
    probabilities: list[float]
    truncated: bool


def aggregate(rows: np.ndarray, how: Aggregation) -> np.ndarray:
    """One probability vector for a word from those of its sub-tokens.

    ``first``: the first sub-token's (what training labelled); ``average``: the mean over the
    sub-tokens; ``max``: the sub-token whose best label is most probable.

    >>> rows = np.array([[0.6, 0.4], [0.1, 0.9]])
    >>> [aggregate(rows, how).tolist() for how in ("first", "average", "max")]
    [[0.6, 0.4], [0.35, 0.65], [0.1, 0.9]]
    """
    if how == "first":
        return rows[0]
    if how == "average":
        return rows.mean(axis=0)
    return rows[int(rows.max(axis=-1).argmax())]
