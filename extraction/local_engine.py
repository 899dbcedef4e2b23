"""Batches through the model on this machine: in this process, or in ``workers`` processes that each
load the bundle once and run their own onnxruntime session with ``threads`` threads.

Results come back in input order. At most a few batches per worker are in flight, so however big the
archive, memory holds only those (the reading streams; nothing accumulates).
"""

from __future__ import annotations

import collections
import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from nerd.extraction.batches import Batch
from nerd.extraction.extractor import DocumentExtractor

IN_FLIGHT_PER_WORKER = 3
_worker_extractor: DocumentExtractor | None = None


def _load(bundle: Path, threads: int) -> None:
    global _worker_extractor  # one per worker process, loaded when the process starts
    _worker_extractor = DocumentExtractor(bundle, threads=threads)


def _lines(ids: list[str], sources: list[str], texts: list[str]) -> list[str]:
    assert _worker_extractor is not None, "the worker's initializer did not run"
    return _worker_extractor.records(ids, sources, texts)


def _arguments(batch: Batch) -> tuple[list[str], list[str], list[str]]:
    documents = batch.documents
    return [d.id for d in documents], [d.source for d in documents], [d.text for d in documents]


def run_locally(
    bundle: Path, batches: Iterable[Batch], *, workers: int, threads: int
) -> Iterator[tuple[Batch, list[str]]]:
    """Each batch with its output lines, in order."""
    if workers == 1:
        extractor = DocumentExtractor(bundle, threads=threads)
        for batch in batches:
            yield batch, extractor.records(*_arguments(batch)) if batch.documents else []
        return
    # spawn, not fork: a forked onnxruntime (or a forked thread pool of the parent) is not safe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_load, initargs=(bundle, threads)
    ) as pool:
        pending: collections.deque[tuple[Batch, Future[list[str]] | None]] = collections.deque()
        for batch in batches:
            future = pool.submit(_lines, *_arguments(batch)) if batch.documents else None
            pending.append((batch, future))
            while len(pending) > workers * IN_FLIGHT_PER_WORKER:
                yield _done(pending.popleft())
        while pending:
            yield _done(pending.popleft())


def _done(entry: tuple[Batch, Future[list[str]] | None]) -> tuple[Batch, list[str]]:
    batch, future = entry
    return batch, future.result() if future is not None else []
