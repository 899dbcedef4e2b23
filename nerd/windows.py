"""Where a sentence is cut into model windows of whole words; shared by training and serving, so the
model is served on exactly the windows it was trained and verified on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class WindowBounds(NamedTuple):
    """A window reads words ``start`` to ``end`` and labels ``owned_from`` to ``owned_to`` (ends excluded)."""

    start: int
    end: int
    owned_from: int
    owned_to: int


def window_bounds(piece_counts: Sequence[int], budget: int, stride: int = 0) -> list[WindowBounds]:
    """Consecutive windows of whole words, each at most ``budget`` sub-tokens (every count must fit).

    With ``stride`` > 0 a window starts up to that many sub-tokens of whole words before the previous
    one ended; each word is owned by the window where it sits further from the edge.

    >>> [tuple(b) for b in window_bounds([2, 2, 2], budget=4)]
    [(0, 2, 0, 2), (2, 3, 2, 3)]
    >>> [tuple(b) for b in window_bounds([1, 1, 1, 1, 1], budget=3, stride=1)]
    [(0, 3, 0, 2), (2, 5, 2, 5)]
    """
    bounds = []
    start = owned_from = 0
    while start < len(piece_counts):
        end, used = start, 0
        while end < len(piece_counts) and used + piece_counts[end] <= budget:
            used += piece_counts[end]
            end += 1
        following, overlap = end, 0
        if end < len(piece_counts):
            # Step back over whole words worth at most ``stride`` sub-tokens, always moving forward.
            while following > start + 1 and overlap + piece_counts[following - 1] <= stride:
                following -= 1
                overlap += piece_counts[following]
        owned_to = (following + end) // 2 if end < len(piece_counts) else end
        bounds.append(WindowBounds(start, end, owned_from, owned_to))
        start, owned_from = following, owned_to
    return bounds
