"""The archive cut into shards and each shard into model batches, in input order; and what gathers a
shard's results back and writes it.

A shard is ``shard_size`` consecutive records of the archive (documents and rejects alike), so the
same inputs always cut into the same shards: a resumed run skips the records of the shards its journal
lists and goes on with the next. A batch carries its shard's rejects and says whether it closes the
shard; the engines (worker processes, Ray) only turn a batch's documents into output lines.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerd.extraction.documents import Document, Fields, Item, Rejected, read_items
from nerd.extraction.journal import Journal
from nerd.extraction.shards import OutputFormat, write_shard


@dataclass
class Batch:
    shard: int
    documents: list[Document] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0  # records of the archive in this batch
    closes_shard: bool = False


def archive_items(files: Iterable[Path], fields: Fields) -> Iterator[Item]:
    for _, _, item in located_items(files, fields):
        yield item


def located_items(files: Iterable[Path], fields: Fields) -> Iterator[tuple[int, int, Item]]:
    """(file's index, record's ordinal in the file, item) of every record of the archive, in order."""
    for index, path in enumerate(files):
        for ordinal, item in read_items(path, fields):
            yield index, ordinal, item


def batches(items: Iterable[Item], *, first_shard: int, shard_size: int, batch_size: int) -> Iterator[Batch]:
    """The items cut into shards of ``shard_size`` records, each into batches of ``batch_size`` documents
    (a shard with nothing left over still ends in a batch that closes it)."""
    shard = first_shard
    iterator = iter(items)
    while True:
        records = list(itertools.islice(iterator, shard_size))
        if not records:
            return
        batch = Batch(shard)
        for item in records:
            batch.read += 1
            if isinstance(item, Rejected):
                batch.rejects.append(item.record())
                continue
            batch.documents.append(item)
            if len(batch.documents) == batch_size:
                yield batch
                batch = Batch(shard)
        batch.closes_shard = True
        yield batch
        shard += 1


@dataclass
class ShardSink:
    """Gathers each shard's lines and rejects from its batches, in order, and writes the shard when its
    last batch is in; the journal then names it."""

    out_dir: Path
    journal: Journal
    output: OutputFormat
    on_shard: Callable[[dict[str, Any]], None] = lambda shard: None
    _lines: list[str] = field(default_factory=list)
    _rejects: list[dict[str, Any]] = field(default_factory=list)
    _read: int = 0

    def add(self, batch: Batch, lines: list[str]) -> None:
        self._lines.extend(lines)
        self._rejects.extend(batch.rejects)
        self._read += batch.read
        if not batch.closes_shard:
            return
        files = write_shard(self.out_dir, batch.shard, self.output, self._lines, self._rejects, self._read)
        self.journal.shards.append(files.record())
        self.journal.save(self.out_dir)
        self._lines, self._rejects, self._read = [], [], 0
        self.on_shard(files.record())
