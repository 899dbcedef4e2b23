"""A requests-per-minute limit shared by every worker of a run, and a pause they all honour."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    """Spaces request starts at least ``60 / rpm`` seconds apart; :meth:`pause` holds everyone back.

    When one request is told to slow down (429 with ``Retry-After``), the quota is the endpoint's, not
    the request's: every worker waits, instead of the others running into the same refusal.
    """

    def __init__(self, rpm: float | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rpm is not None and rpm <= 0:
            raise ValueError("rpm must be positive")
        self._interval = 60.0 / rpm if rpm else 0.0
        self._clock = clock
        self._next_start = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """No request starts for ``seconds`` from now (a longer pause already running is kept)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def wait_turn(self) -> None:
        """Return when the caller may send its request."""
        async with self._lock:
            while True:
                now = self._clock()
                start = max(now, self._next_start, self._paused_until)
                if start <= now:
                    self._next_start = now + self._interval
                    return
                await asyncio.sleep(start - now)
