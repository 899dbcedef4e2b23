"""``output.jsonl`` and ``errors.jsonl`` of an annotation run, in the Batch API's format, appended as
answers arrive so that an interrupted run loses nothing and a resumed one never asks twice.

Each line is written with one ``write`` on a file opened for appending, then flushed to disk: a reader
(or a later run) sees whole lines, except a last line torn by a crash, which :class:`AnswerLog` cuts off
when it opens the file (that request was not answered, so it is asked again).
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nerd.atomic import OutputError, atomic_write_bytes
from nerd.errors import InputError, NerdWarning

OUTPUT_FILE = "output.jsonl"
ERRORS_FILE = "errors.jsonl"


def output_line(custom_id: str, body: Any, *, request_id: str | None = None) -> dict[str, Any]:
    """A Batch output line for an answered request (status 200)."""
    return {
        "id": f"batch_req_{uuid.uuid4().hex}",
        "custom_id": custom_id,
        "response": {"status_code": 200, "request_id": request_id or "", "body": body},
        "error": None,
    }


def error_line(
    custom_id: str, code: str, message: str, *, status: int | None = None, body: Any = None
) -> dict[str, Any]:
    """A Batch error line: an HTTP refusal keeps its status and body, anything else is a bare error."""
    if status is not None:
        response_body = (
            body
            if isinstance(body, dict) and "error" in body
            else {"error": {"code": code, "message": message}}
        )
        return {
            "id": f"batch_req_{uuid.uuid4().hex}",
            "custom_id": custom_id,
            "response": {"status_code": status, "request_id": "", "body": response_body},
            "error": None,
        }
    return {
        "id": f"batch_req_{uuid.uuid4().hex}",
        "custom_id": custom_id,
        "response": None,
        "error": {"code": code, "message": message},
    }


def _ids_in(path: Path, *, repair: bool) -> set[str]:
    """The custom_ids of a log file; a torn last line is cut off (``repair``) or ignored.

    Raises:
        InputError: a whole line in the file that is not a JSON object with a custom_id (someone else
            wrote it: the run cannot tell what it answers).
    """
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        if repair:
            warnings.warn(
                f"{path}: its last line was cut off (an interrupted write); removed, "
                "that request is asked again",
                NerdWarning,
                stacklevel=3,
            )
            atomic_write_bytes(path, data)
    ids: set[str] = set()
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise InputError("not a JSON line of an annotation run", path=path, line=number) from None
        custom_id = record.get("custom_id") if isinstance(record, dict) else None
        if not isinstance(custom_id, str):
            raise InputError("a line without a custom_id", path=path, line=number, field="custom_id")
        ids.add(custom_id)
    return ids


class AnswerLog:
    """The two result files of a run directory and the ids each already holds."""

    def __init__(self, directory: Path, *, repair: bool = True) -> None:
        self.directory = directory
        self.output_path = directory / OUTPUT_FILE
        self.errors_path = directory / ERRORS_FILE
        self.answered = _ids_in(self.output_path, repair=repair)
        self.failed = _ids_in(self.errors_path, repair=repair) - self.answered

    def finished(self, custom_id: str) -> bool:
        """True when the id already ends in one of the two files."""
        return custom_id in self.answered or custom_id in self.failed

    def record_answer(self, record: dict[str, Any]) -> None:
        """Append an output line (skipped when the id is already answered)."""
        custom_id = record["custom_id"]
        if custom_id in self.answered:
            return
        self._append(self.output_path, record)
        self.answered.add(custom_id)

    def record_failure(self, record: dict[str, Any]) -> None:
        """Append an error line (skipped when the id already ends somewhere)."""
        custom_id = record["custom_id"]
        if self.finished(custom_id):
            return
        self._append(self.errors_path, record)
        self.failed.add(custom_id)

    def forget_failures(self, custom_ids: Iterable[str]) -> int:
        """Take these ids out of ``errors.jsonl`` so that they are asked again; returns how many."""
        drop = set(custom_ids) & self.failed
        if not drop:
            return 0
        kept = []
        for raw in self.errors_path.read_bytes().splitlines(keepends=True):
            record = json.loads(raw) if raw.strip() else None
            if record is None or record.get("custom_id") not in drop:
                kept.append(raw)
        atomic_write_bytes(self.errors_path, b"".join(kept))
        self.failed -= drop
        return len(drop)

    def _append(self, path: Path, record: dict[str, Any]) -> None:
        data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                os.write(descriptor, data)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as error:
            raise OutputError(f"{path}: cannot append: {error.strerror or error}") from None
