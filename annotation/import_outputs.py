"""Writing what an import produced: training data, rejects, duplicates, the audit and the report.

Each file is written atomically, and no output may land on an input or inside a source directory (a
later import of that directory would read the outputs back as records).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.annotation.importing import ImportResult
from nerd.atomic import OutputError, atomic_write_text
from nerd.conll import Sentence, format_conll


@dataclass(frozen=True)
class ImportPaths:
    """Where the outputs of an import go."""

    out_dir: Path
    json_report: Path | None = None
    retry_requests: Path | None = None
    conll: bool = False

    @property
    def data(self) -> Path:
        return self.out_dir / "data.jsonl"

    @property
    def rejects(self) -> Path:
        return self.out_dir / "rejects.jsonl"

    @property
    def duplicates(self) -> Path:
        return self.out_dir / "duplicates.jsonl"

    @property
    def audit(self) -> Path:
        return self.out_dir / "audit.jsonl"

    @property
    def report(self) -> Path:
        return self.out_dir / "report.json"

    @property
    def data_conll(self) -> Path:
        return self.out_dir / "data.conll"

    def all(self) -> list[Path]:
        paths = [self.data, self.rejects, self.duplicates, self.audit, self.report]
        paths += [path for path in (self.json_report, self.retry_requests) if path is not None]
        if self.conll:
            paths.append(self.data_conll)
        return paths


def check_outputs(paths: ImportPaths, sources: Iterable[Path], inputs: Iterable[Path]) -> None:
    """Refuse outputs that would overwrite an input or be read back as input by the next import.

    Raises:
        OutputError: naming the output and the input it collides with.
    """
    input_files = {path.resolve() for path in inputs}
    for output in paths.all():
        if output.resolve() in input_files:
            raise OutputError(f"{output}: is one of the inputs; choose another output path")
    out_dir = paths.out_dir.resolve()
    for source in sources:
        if source.is_dir():
            resolved = source.resolve()
            if out_dir == resolved or resolved in out_dir.parents:
                raise OutputError(
                    f"{paths.out_dir}: lies inside the source directory {source}; a later import of that "
                    "directory would read the outputs as records"
                )


def _jsonl(rows: Iterable[Any]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows)


def write_import(result: ImportResult, paths: ImportPaths) -> None:
    """Write every output of an import (see :class:`ImportPaths`)."""
    atomic_write_text(paths.data, "".join(record.to_json_line() + "\n" for record in result.records))
    atomic_write_text(paths.rejects, _jsonl(result.rejects))
    atomic_write_text(paths.duplicates, _jsonl(result.duplicates))
    atomic_write_text(paths.audit, _jsonl(result.events))
    report = json.dumps(result.report, ensure_ascii=False, indent=2) + "\n"
    atomic_write_text(paths.report, report)
    if paths.json_report is not None:
        atomic_write_text(paths.json_report, report)
    if paths.retry_requests is not None:
        atomic_write_text(paths.retry_requests, "".join(line + "\n" for line in result.retry_requests))
    if paths.conll:
        sentences = [Sentence(tuple(record.tokens), tuple(record.tags)) for record in result.records]
        atomic_write_text(paths.data_conll, format_conll(sentences))
