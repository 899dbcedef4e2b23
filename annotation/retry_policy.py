"""When to ask an LLM endpoint again, and how long to wait first.

Retried: 408, 409, 429, every 5xx, timeouts and dropped connections; a ``Retry-After`` (or
``retry-after-ms``) header from the server wins over the computed backoff. Anything else (400, 404, 422,
...) is the request's own fault and is not asked again.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset({408, 409, 429})
# A key the endpoint refuses fails every request the same way: the run stops instead of filling
# errors.jsonl with one line per request.
FATAL_STATUSES = frozenset({401, 403})


def is_retryable(status: int | None) -> bool:
    """True for a status worth asking again; ``None`` stands for a timeout or a dropped connection."""
    return status is None or status in RETRYABLE_STATUSES or status >= 500


def retry_after_seconds(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """The wait a server asked for: ``retry-after-ms``, ``Retry-After`` in seconds or as an HTTP date.

    >>> retry_after_seconds({"retry-after": "7"})
    7.0
    >>> retry_after_seconds({"retry-after-ms": "250"})
    0.25
    >>> retry_after_seconds({"retry-after": "soon"}) is None
    True
    """
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    milliseconds = lowered.get("retry-after-ms")
    if milliseconds is not None:
        try:
            seconds = float(milliseconds) / 1000
            return seconds if seconds != seconds else max(0.0, seconds)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return seconds if seconds != seconds else max(0.0, seconds)  # NaN kept: the policy refuses it
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, for at most ``max_retries`` further attempts."""

    max_retries: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    # A server that asks for a longer wait than this (``Retry-After: 86400``, or ``inf``) is not waited
    # for: the request gives up at once and its error line says what the server asked.
    max_server_wait: float = 300.0

    def too_long(self, server_asked: float | None) -> bool:
        """True when the server asked for a wait over :attr:`max_server_wait` (NaN counts as over).

        >>> RetryPolicy(max_server_wait=300).too_long(float("inf")), RetryPolicy().too_long(7.0)
        (True, False)
        """
        return server_asked is not None and not server_asked <= self.max_server_wait

    def delay(
        self, retry: int, server_asked: float | None = None, *, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first).

        A server's own ``Retry-After`` is obeyed as given (it knows its quota); otherwise the wait is
        drawn uniformly from [0, min(max_delay, base_delay * 2**(retry-1))], so that many clients
        refused at the same moment do not come back at the same moment.
        """
        if server_asked is not None:
            return server_asked
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return (rng or random).uniform(0, ceiling)
