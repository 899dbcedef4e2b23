"""Batches for a pass without gradients, shared by training's dev scoring and the serving engine."""

from __future__ import annotations

from collections.abc import Sequence


def inference_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices sorted by length and cut into batches: the least padding for a pass without gradients.

    >>> inference_batches([5, 1, 4, 2, 3], 2)
    [[1, 3], [4, 2], [0]]
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
