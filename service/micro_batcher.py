"""Micro-batching: concurrent requests share model calls instead of queueing one by one.

Texts wait in two bounded lanes, by their cost: their sub-tokens (what the model reads), not their
characters or words, since 20,000 characters of "!!!" are 20,000 sub-tokens and of prose a fifth of
that. Short texts (a cost of at most ``long_cost``: one model call) are batched, up to
``max_batch_size`` a call. A long text runs alone and, given ``steps``, one model call at a time: after
each call the short lane goes first. So a request of one sentence waits for at most one model call,
never for a whole long text, and the memory of a call is bounded by the engine's call size. A long text
whose caller has gone is dropped between calls. With ``max_wait``
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
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nerd.service.metrics import ServiceMetrics
from nerd.tagging.reading import Reading, WordPredictions


class Overloaded(Exception):
    """The queue is full."""


@dataclass
class _Job:
    words: list[str]
    reading: Reading
    future: asyncio.Future = field(repr=False)
    steps: Generator[None, None, WordPredictions] | None = field(default=None, repr=False)


Runner = Callable[[Sequence[Sequence[str]], Reading], list[WordPredictions]]
# One long text's analysis, a model call per step: yields between calls, returns the predictions.
Stepper = Callable[[Sequence[str], Reading], Generator[None, None, WordPredictions]]


def _advance(steps: Generator[None, None, WordPredictions]) -> tuple[bool, WordPredictions | None]:
    """Run one step: (True, the predictions) when the text is done, else (False, None)."""
    try:
        next(steps)
    except StopIteration as finished:
        return True, finished.value
    return False, None


class MicroBatcher:
    def __init__(
        self,
        run: Runner,
        *,
        max_batch_size: int,
        max_wait: float,
        queue_size: int,
        metrics: ServiceMetrics,
        long_cost: int = 100,
        steps: Stepper | None = None,
    ) -> None:
        self.run = run
        self.steps = steps
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.queue_size = queue_size
        self.long_cost = long_cost
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

    async def submit(
        self, texts: Sequence[list[str]], reading: Reading, costs: Sequence[int] | None = None
    ) -> list[WordPredictions]:
        """Predictions for each text, in order; raises :class:`Overloaded` when the queue cannot take them.

        ``costs``: each text's sub-tokens (default: its words), which choose its lane.
        """
        if self.queue_size - self.queued() < len(texts):
            raise Overloaded
        loop = asyncio.get_running_loop()
        jobs = [_Job(words, reading, loop.create_future()) for words in texts]
        for job, cost in zip(jobs, costs if costs is not None else [len(t) for t in texts], strict=True):
            (self.long if cost > self.long_cost else self.short).append(job)
        self.waiting.set()
        return list(await asyncio.gather(*(job.future for job in jobs)))

    async def _next_batch(self) -> tuple[bool, list[_Job]]:
        """(False, the short texts queued now, filled for ``max_wait``), or else (True, one long text)."""
        while not self.short and not self.long:
            self.waiting.clear()
            await self.waiting.wait()
        if not self.short:
            return True, [self.long.popleft()]
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
        return False, batch

    async def _long_step(self, job: _Job) -> None:
        """One model call of a long text; an unfinished text goes back to the head of its lane."""
        if job.future.done():  # its caller has gone: the rest of its calls are not made
            return
        if self.steps is None:  # no stepper: the whole text in one call
            await self._run_group([job], job.reading)
            return
        if job.steps is None:
            job.steps = self.steps(job.words, job.reading)
        try:
            done, result = await asyncio.get_running_loop().run_in_executor(
                self.executor, _advance, job.steps
            )
        except Exception as error:  # the caller gets the failure; the worker lives on
            if not job.future.done():
                job.future.set_exception(error)
            return
        if done:
            if not job.future.done():
                job.future.set_result(result)
        else:
            self.long.appendleft(job)

    async def _run_group(self, group: list[_Job], reading: Reading) -> None:
        self.metrics.batch_size.observe(len(group))
        try:
            results = await asyncio.get_running_loop().run_in_executor(
                self.executor, self.run, [job.words for job in group], reading
            )
        except Exception as error:  # the callers get the failure; the worker lives on
            for job in group:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        for job, result in zip(group, results, strict=True):
            if not job.future.done():
                job.future.set_result(result)

    async def _work(self) -> None:
        while True:
            long, batch = await self._next_batch()
            if long:
                await self._long_step(batch[0])
                continue
            # Texts read the same way share a model call.
            for reading in {job.reading for job in batch}:
                group = [job for job in batch if job.reading == reading and not job.future.done()]
                if group:
                    await self._run_group(group, reading)
