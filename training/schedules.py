"""The paper's curricula: how much of each source an epoch trains on (arXiv 2402.09282, Figure 3).

For T epochs, t = 0..T-1 and x = t/(T-1), a schedule gives w0, the share of the distilled source, and
w1 = 1 - w0, the share of the original (human-labelled) source; ``all`` trains on both in full every
epoch. Schedules are chosen by name, some with a parameter: ``sigmoid:8``, ``power:0.5``.

>>> [round(w0, 3) for w0, _ in schedule_weights("cosine", 5)]
[1.0, 0.854, 0.5, 0.146, 0.0]
>>> schedule_weights("simple-mix", 4)
[(1.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.0, 1.0)]
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from nerd.errors import ConfigError


def _fraction(t: int, epochs: int) -> float:
    return t / (epochs - 1) if epochs > 1 else 0.0


def _original(t: int, epochs: int, _: float | None) -> float:
    return 0.0


def _distilled(t: int, epochs: int, _: float | None) -> float:
    return 1.0


def _simple_mix(t: int, epochs: int, _: float | None) -> float:
    return 1.0 if t < epochs / 2 else 0.0


def _sigmoid(t: int, epochs: int, k: float | None) -> float:
    assert k is not None
    return 1.0 - 1.0 / (1.0 + math.exp(-k * (_fraction(t, epochs) - 0.5)))


def _cosine(t: int, epochs: int, _: float | None) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * _fraction(t, epochs)))


def _power(t: int, epochs: int, n: float | None) -> float:
    assert n is not None
    return 1.0 - _fraction(t, epochs) ** n


@dataclass(frozen=True)
class _Kind:
    weight: Callable[[int, int, float | None], float]
    parameter: str | None = None  # the name of its parameter, when it takes one


SCHEDULES: dict[str, _Kind] = {
    "original": _Kind(_original),
    "distilled": _Kind(_distilled),
    "simple-mix": _Kind(_simple_mix),
    "sigmoid": _Kind(_sigmoid, "k"),
    "cosine": _Kind(_cosine),
    "power": _Kind(_power, "n"),
    "all": _Kind(_distilled),  # w0 is unused: both sources in full, see schedule_weights
}


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule name: ``sigmoid:8`` is ``Schedule("sigmoid", 8.0)``."""

    kind: str
    parameter: float | None = None

    def __str__(self) -> str:
        return self.kind if self.parameter is None else f"{self.kind}:{self.parameter:g}"


def parse_schedule(name: str) -> Schedule:
    """The schedule a name means.

    Raises:
        ConfigError: an unknown name (the message lists the known ones), a missing, extra or
            non-numeric parameter.
    """
    kind, _, raw = name.strip().partition(":")
    known = SCHEDULES.get(kind)
    if known is None:
        names = ", ".join(
            f"{key}:{value.parameter.upper()}" if value.parameter else key for key, value in SCHEDULES.items()
        )
        raise ConfigError(f"unknown schedule {name!r}; known: {names}")
    if known.parameter is None:
        if raw:
            raise ConfigError(f"schedule {kind!r} takes no parameter (got {name!r})")
        return Schedule(kind)
    if not raw:
        raise ConfigError(f"schedule {kind!r} needs its parameter {known.parameter}, e.g. {kind}:2")
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"schedule parameter {known.parameter} of {name!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"schedule parameter {known.parameter} of {name!r} must be a positive number")
    return Schedule(kind, value)


def schedule_weights(name: str | Schedule, epochs: int) -> list[tuple[float, float]]:
    """(distilled share, original share) for each of ``epochs`` epochs.

    Raises:
        ConfigError: an unknown schedule or fewer than one epoch.
    """
    schedule = name if isinstance(name, Schedule) else parse_schedule(name)
    if epochs < 1:
        raise ConfigError(f"epochs must be at least 1, got {epochs}")
    if schedule.kind == "all":
        return [(1.0, 1.0)] * epochs
    weight = SCHEDULES[schedule.kind].weight
    plan = []
    for t in range(epochs):
        w0 = min(1.0, max(0.0, weight(t, epochs, schedule.parameter)))
        plan.append((w0, 1.0 - w0))
    return plan


def epoch_sample(size: int, share: float, rng: random.Random) -> list[int]:
    """Indices of a ``share`` fraction of a source of ``size`` examples, without replacement, in order."""
    count = round(share * size)
    return sorted(rng.sample(range(size), count)) if count < size else list(range(size))


def epoch_indices(
    weights: list[tuple[float, float]], distilled_size: int, original_size: int, seed: int
) -> list[tuple[list[int], list[int]]]:
    """For each epoch, the distilled and original examples it trains on; reproducible from ``seed``."""
    rng = random.Random(seed)
    return [
        (epoch_sample(distilled_size, w0, rng), epoch_sample(original_size, w1, rng)) for w0, w1 in weights
    ]
