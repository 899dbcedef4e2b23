"""Batches for a pass without gradients, shared by training's dev scoring and the serving engine."""

from __future__ import annotations

from collections.abc import Sequence


def inference_batches(
    lengths: Sequence[int], batch_size: int, max_tokens: int | None = None
) -> list[list[int]]:
    """Indices sorted by length and cut into batches: the least padding for a pass without gradients.

    ``max_tokens`` also caps a batch's padded size (rows times its longest length): texts of mixed
    lengths (a service's micro-batch) then run as a few even batches instead of one padded to the
    longest. A text longer than the cap runs alone.

    >>> inference_batches([5, 1, 4, 2, 3], 2)
    [[1, 3], [4, 2], [0]]
    >>> inference_batches([30, 2, 3, 2, 31], 8, max_tokens=40)
    [[1, 3, 2], [0], [4]]
    """
    batches: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        full = len(current) >= batch_size
        over = max_tokens is not None and (len(current) + 1) * lengths[index] > max_tokens
        if current and (full or over):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches
