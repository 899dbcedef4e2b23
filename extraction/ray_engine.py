"""``nerd extract --engine ray``: the same extraction as a Ray Data pipeline, on this machine or a cluster.

The driver reads the archive once to plan it (which records of which file make each pending shard, and
the shard's rejects: the accounting stays in one place); a :class:`ArchiveDatasource` gives Ray one
read task per model batch of a shard's records, which reads just those again where it runs;
``map_batches`` hands the
documents to a pool of :class:`EntityActor` (each loads the bundle once, as a worker process does);
the results come back in order and the driver writes the same shards, journal and manifest as the
local engine. Actors and tasks that die are retried by Ray, and a killed driver resumes from the
journal like any run.

Imported only for ``--engine ray``: the single-machine path never imports Ray.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import ray
from ray.data import Datasource, ReadTask
from ray.data.block import BlockMetadata

from nerd.errors import ConfigError
from nerd.extraction.batches import Batch, located_items
from nerd.extraction.documents import Document, Fields, Rejected, read_items
from nerd.extraction.extractor import DocumentExtractor
from nerd.extraction.request import ExtractRequest

# A read task re-reads a shard's records; it asks for little CPU so that it fits beside actors that
# hold the rest (on 2 cores, two actors asking for a whole CPU each would leave it none and wait forever).
READ_TASK_CPUS = 0.1
# Model batches a read task's block holds. A block goes to one actor whole: with four, BBC's 1,186
# articles made five blocks and the last ran on one actor while the other idled (116 s against 95 s).
STRETCH_BATCHES = 1


@dataclass
class Stretch:
    """Consecutive records of one shard that one read task reads again: (file, first ordinal, records)."""

    shard: int
    pieces: list[tuple[int, int, int]] = field(default_factory=list)
    records: int = 0
    documents: int = 0

    def add(self, file: int, ordinal: int) -> None:
        self.records += 1
        if self.pieces and self.pieces[-1][0] == file:
            start, count = self.pieces[-1][1], self.pieces[-1][2]
            self.pieces[-1] = (file, start, count + 1)
        else:
            self.pieces.append((file, ordinal, 1))


@dataclass
class PlannedShard:
    index: int
    stretches: list[Stretch] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0
    documents: int = 0


def plan(
    files: list[Path], fields: Fields, *, done: int, first_shard: int, shard_size: int, stretch: int
) -> list[PlannedShard]:
    """The pending shards (the records after the first ``done``, ``shard_size`` to a shard), each cut
    into stretches of ``stretch`` records."""
    shards: list[PlannedShard] = []
    for number, (file, ordinal, item) in enumerate(located_items(files, fields)):
        if number < done:
            continue
        if not shards or shards[-1].read == shard_size:
            shards.append(PlannedShard(first_shard + len(shards)))
        shard = shards[-1]
        shard.read += 1
        if not shard.stretches or shard.stretches[-1].records == stretch:
            shard.stretches.append(Stretch(shard.index))
        shard.stretches[-1].add(file, ordinal)
        if isinstance(item, Rejected):
            shard.rejects.append(item.record())
        else:
            shard.documents += 1
            shard.stretches[-1].documents += 1
    return shards


def stretch_documents(files: list[Path], fields: Fields, stretch: Stretch) -> Iterator[Document]:
    """A stretch's documents, read again (on whichever node runs the read task)."""
    for file, first, count in stretch.pieces:
        for ordinal, item in read_items(files[file], fields, skip=first):
            if ordinal >= first + count:
                break
            if isinstance(item, Document):
                yield item
            if ordinal == first + count - 1:
                break


class ArchiveDatasource(Datasource):
    """The documents of the pending shards, a read task (and a block) per stretch: a block goes to one
    actor whole, so blocks of a model batch or a few keep every actor busy."""

    def __init__(self, files: list[Path], fields: Fields, shards: list[PlannedShard]) -> None:
        self.files, self.fields = files, fields
        self.stretches = [stretch for shard in shards for stretch in shard.stretches if stretch.documents]

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(self, parallelism: int, **_: Any) -> list[ReadTask]:
        return [self._task(stretch) for stretch in self.stretches]

    def _task(self, stretch: Stretch) -> ReadTask:
        files, fields = self.files, self.fields

        def read() -> Iterable[Any]:
            import pyarrow as pa

            documents = list(stretch_documents(files, fields, stretch))
            yield pa.table(
                {
                    "shard": pa.array([stretch.shard] * len(documents), pa.int64()),
                    "id": [d.id for d in documents],
                    "source": [d.source for d in documents],
                    "text": [d.text for d in documents],
                }
            )

        metadata = BlockMetadata(
            num_rows=stretch.documents, size_bytes=None, exec_stats=None, input_files=None
        )
        return ReadTask(read, metadata)


class EntityActor:
    """A Ray actor holding one bundle: a batch of documents in, their output lines out."""

    def __init__(self, bundle: str, threads: int) -> None:
        self.extractor = DocumentExtractor(Path(bundle), threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        lines = self.extractor.records(
            [str(x) for x in batch["id"]], [str(x) for x in batch["source"]], [str(x) for x in batch["text"]]
        )
        return {"shard": batch["shard"], "record": np.array(lines, dtype=object)}


def run_on_ray(
    request: ExtractRequest, files: list[Path], *, done: int, first_shard: int
) -> Iterator[tuple[Batch, list[str]]]:
    """Each pending shard, as one batch that closes it, with its output lines, in order."""
    shards = plan(
        files,
        request.fields,
        done=done,
        first_shard=first_shard,
        shard_size=request.shard_size,
        stretch=request.batch_size * STRETCH_BATCHES,
    )
    if not shards:
        return
    _start_ray(request)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # shards are written in input order
    context.enable_progress_bars = False  # nerd's own bar says how far it is
    source = ArchiveDatasource(files, request.fields, shards)
    dataset = ray.data.read_datasource(
        source,
        num_cpus=READ_TASK_CPUS,
        # One read task per stretch, as planned (not split further), and one at a time per actor: each
        # read task at once would be a Python process of its own, importing nerd, on the actors' cores.
        override_num_blocks=max(1, len(source.stretches)),
        concurrency=request.workers,
    ).map_batches(
        EntityActor,
        fn_constructor_kwargs={"bundle": str(request.bundle.resolve()), "threads": request.threads},
        batch_size=request.batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=request.workers),
        num_cpus=max(request.threads - READ_TASK_CPUS, READ_TASK_CPUS),
        # Ray Data's default for an actor pool (kept on purpose): an actor whose process dies is started
        # again and its batch retried, as often as it takes (max_restarts and max_task_retries -1).
    )
    rows = _rows(dataset)
    for shard in shards:
        lines = []
        for _ in range(shard.documents):
            index, line = next(rows)
            if index != shard.index:
                raise RuntimeError(f"Ray returned shard {index}'s record while shard {shard.index} was open")
            lines.append(line)
        yield Batch(shard.index, [], shard.rejects, shard.read, closes_shard=True), lines


def _rows(dataset: Any) -> Iterator[tuple[int, str]]:
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        yield from zip((int(x) for x in batch["shard"]), (str(x) for x in batch["record"]), strict=True)


def _start_ray(request: ExtractRequest) -> None:
    # Ray Data's plan and per-dataset lines would fight the progress bar; warnings still show.
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    if ray.is_initialized():
        return
    if request.ray_address:
        ray.init(address=request.ray_address, log_to_driver=False, logging_level=logging.WARNING)
        return
    try:
        ray.init(
            num_cpus=request.workers * request.threads,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    except Exception as error:  # Ray raises its own and RuntimeError kinds
        raise ConfigError(f"Ray could not start here: {error}") from error
