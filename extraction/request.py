"""What an extraction is asked to do: the inputs, the bundle, the output and how to run it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from nerd.extraction.documents import Fields
from nerd.extraction.shards import OutputFormat

DEFAULT_SHARD_SIZE = 10_000
DEFAULT_BATCH_SIZE = 64


class Engine(StrEnum):
    local = "local"
    ray = "ray"


@dataclass(frozen=True)
class ExtractRequest:
    inputs: list[Path]
    bundle: Path
    out_dir: Path
    fields: Fields = field(default_factory=Fields)
    output: OutputFormat = OutputFormat.jsonl
    shard_size: int = DEFAULT_SHARD_SIZE
    batch_size: int = DEFAULT_BATCH_SIZE  # documents a model task gets
    workers: int = 1
    threads: int = 1  # onnxruntime threads of each worker
    engine: Engine = Engine.local
    ray_address: str | None = None
