"""Micro-batching: concurrent requests share model calls instead of queueing one by one.

Texts wait in two bounded lanes. Short texts (at most ``long_words`` words: one model window) are
batched, up to ``max_batch_size`` a call; a long text runs alone, one per call, and after each call the
short lane goes first. So a request of one sentence waits for at most one long text, never for a whole
request of long ones, and the memory of a call is bounded by one long text's windows. With ``max_wait``
0 (the service's default) a batch is whatever is queued when the model becomes free: a lone request
never waits for company, and under load the requests that arrived during one model call share the next.
A positive ``max_wait`` holds a short batch open that long to fill. The model runs in a thread so the
event loop keeps accepting requests. A full queue is refused at once (the caller answers 503).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nerd.service.engine import Reading, WordPredictions
from nerd.service.metrics import ServiceMetrics


class Overloaded(Exception):
    """The queue is full."""


@dataclass
class _Job:
    words: list[str]
    reading: Reading
    future: asyncio.Future = field(repr=False)


Runner = Callable[[Sequence[Sequence[str]], Reading], list[WordPredictions]]


class MicroBatcher:
    def __init__(
        self,
        run: Runner,
        *,
        max_batch_size: int,
        max_wait: float,
        queue_size: int,
        metrics: ServiceMetrics,
        long_words: int = 100,
    ) -> None:
        self.run = run
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.queue_size = queue_size
        self.long_words = long_words
        self.short: collections.deque[_Job] = collections.deque()
        self.long: collections.deque[_Job] = collections.deque()
        self.waiting = asyncio.Event()
        self.metrics = metrics
        # One thread: the onnxruntime session already uses every core for one call.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nerd-model")
        self.worker: asyncio.Task[Any] | None = None

    def start(self) -> None:
        self.worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker
        self.executor.shutdown(wait=True)

    def queued(self) -> int:
        return len(self.short) + len(self.long)

    async def submit(self, texts: Sequence[list[str]], reading: Reading) -> list[WordPredictions]:
        """Predictions for each text, in order; raises :class:`Overloaded` when the queue cannot take them."""
        if self.queue_size - self.queued() < len(texts):
            raise Overloaded
        loop = asyncio.get_running_loop()
        jobs = [_Job(words, reading, loop.create_future()) for words in texts]
        for job in jobs:
            (self.long if len(job.words) > self.long_words else self.short).append(job)
        self.waiting.set()
        return list(await asyncio.gather(*(job.future for job in jobs)))

    async def _next_batch(self) -> list[_Job]:
        """The short texts queued now (filled for ``max_wait``), or else one long text."""
        while not self.short and not self.long:
            self.waiting.clear()
            await self.waiting.wait()
        if not self.short:
            return [self.long.popleft()]
        batch = [self.short.popleft()]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch_size:
            if self.short:
                batch.append(self.short.popleft())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.waiting.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.waiting.wait(), remaining)
            if not self.short:
                break
        return batch

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            # Texts read the same way share a model call.
            for reading in {job.reading for job in batch}:
                group = [job for job in batch if job.reading == reading and not job.future.done()]
                if not group:
                    continue
                self.metrics.batch_size.observe(len(group))
                try:
                    results = await loop.run_in_executor(
                        self.executor, self.run, [job.words for job in group], reading
                    )
                except Exception as error:  # the callers get the failure; the worker lives on
                    for job in group:
                        if not job.future.done():
                            job.future.set_exception(error)
                    continue
                for job, result in zip(group, results, strict=True):
                    if not job.future.done():
                        job.future.set_result(result)
