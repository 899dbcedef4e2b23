"""The output of an extraction: shards of records, each written whole or not at all, and their files.

A shard holds the documents of one stretch of the archive, in input order: ``entities-00000.jsonl``
(one JSON object a document) or ``entities-00000.parquet`` (one row a document, the entities a list of
structs: ``id``, ``source``, ``entities`` list<struct<text, label, start, end, score>>, ``truncated``).
Its rejects go beside it (``rejects-00000.jsonl``) until the run ends and they are gathered into
``rejects.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from nerd.atomic import OutputError, atomic_write_bytes


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    parquet = "parquet"


@dataclass(frozen=True)
class ShardFiles:
    """What one finished shard wrote (the journal and the manifest list it)."""

    index: int
    read: int  # records of the archive this shard covers
    documents: int  # ... that were extracted
    rejected: int
    entities: int
    file: str
    sha256: str
    rejects_file: str | None

    def record(self) -> dict[str, Any]:
        return vars(self).copy()


def shard_name(index: int, output: OutputFormat) -> str:
    return f"entities-{index:05d}.{output.value}"


def rejects_name(index: int) -> str:
    return f"rejects-{index:05d}.jsonl"


def write_shard(
    out_dir: Path,
    index: int,
    output: OutputFormat,
    lines: Sequence[str],
    rejects: Sequence[dict[str, Any]],
    read: int,
) -> ShardFiles:
    """Write a shard's records and rejects, each file atomically (a kill leaves the old file or none).

    Raises:
        OutputError: the folder cannot be written (a full disk included).
    """
    entities = sum(len(json.loads(line)["entities"]) for line in lines) if lines else 0
    data = (
        _parquet_bytes(lines) if output is OutputFormat.parquet else "".join(f"{x}\n" for x in lines).encode()
    )
    name = shard_name(index, output)
    write_whole(out_dir / name, data)
    rejects_file = None
    if rejects:
        rejects_file = rejects_name(index)
        text = "".join(json.dumps(reject, ensure_ascii=False) + "\n" for reject in rejects)
        write_whole(out_dir / rejects_file, text.encode("utf-8"))
    digest = hashlib.sha256(data).hexdigest()
    return ShardFiles(index, read, len(lines), len(rejects), entities, name, digest, rejects_file)


def write_whole(path: Path, data: bytes) -> None:
    """Write a file atomically; a full disk or another write error says what to do about it."""
    try:
        atomic_write_bytes(path, data)
    except OSError as error:
        raise OutputError(
            f"{path}: cannot write: {error.strerror or error}; the same command resumes from the last "
            "whole shard once that is fixed"
        ) from None


def _parquet_bytes(lines: Sequence[str]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as parquet

    records = [json.loads(line) for line in lines]
    table = pa.Table.from_pylist(records, schema=parquet_schema())
    sink = pa.BufferOutputStream()
    parquet.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def parquet_schema() -> Any:
    import pyarrow as pa

    entity = pa.struct(
        [
            ("text", pa.string()),
            ("label", pa.string()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("score", pa.float64()),
        ]
    )
    return pa.schema(
        [
            ("id", pa.string()),
            ("source", pa.string()),
            ("entities", pa.list_(entity)),
            ("truncated", pa.bool_()),
        ]
    )
