"""``nerd annotate --via batch``: the OpenAI Batch API (and Azure OpenAI's), resumable.

A run splits its unanswered requests into input parts within the API's limits, uploads each, creates a
batch for it and polls until every batch ends. What was done is recorded in ``state.json`` after every
step, so the same command after an interruption picks up the batches already paid for instead of
creating new ones. The output and error files of a finished batch are kept as downloaded (under
``downloads/``) and merged into ``output.jsonl`` / ``errors.jsonl``; a request the API never accounted
for (a failed or cancelled batch) gets an error line of its own, so every id ends somewhere.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerd.annotation.annotate_run import STATE_FILE
from nerd.annotation.answer_log import AnswerLog, error_line
from nerd.annotation.batch_requests import MAX_BYTES_PER_FILE, MAX_REQUESTS_PER_FILE, split_into_files
from nerd.annotation.request_set import AnnotationRequest
from nerd.atomic import atomic_write_bytes, atomic_write_text
from nerd.errors import InputError, NerdWarning

if TYPE_CHECKING:
    from openai import OpenAI

UPLOADS = "uploads"
DOWNLOADS = "downloads"
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
# Not *.jsonl: `nerd import` reads every *.jsonl under the run directory, and these are copies.
_UPLOAD_SUFFIX = ".jsonl.upload"


@dataclass
class BatchPart:
    """One uploaded input file and the batch that runs it."""

    file: str
    requests: int
    sha256: str
    input_file_id: str | None = None
    batch_id: str | None = None
    status: str | None = None
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    collected: bool = False


@dataclass
class BatchState:
    """``state.json``: the parts of a run, in the order they were made."""

    parts: list[BatchPart] = field(default_factory=list)

    @classmethod
    def load(cls, directory: Path) -> BatchState:
        """The state of a run directory (empty for a new one).

        Raises:
            InputError: a ``state.json`` that is not what this module writes.
        """
        path = directory / STATE_FILE
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls([BatchPart(**part) for part in data.get("batches", [])])
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, AttributeError) as error:
            raise InputError(f"not a batch state file: {error}", path=path) from None

    def save(self, directory: Path, run_state: dict[str, Any]) -> None:
        data = {**run_state, "batches": [asdict(part) for part in self.parts]}
        atomic_write_text(directory / STATE_FILE, json.dumps(data, indent=2) + "\n")


@dataclass
class BatchTally:
    """Where the batches of a run stand."""

    requests: int = 0
    completed: int = 0
    failed: int = 0
    running: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def _part_ids(directory: Path, part: BatchPart) -> list[str]:
    ids = []
    for raw in (directory / part.file).read_bytes().splitlines():
        if raw.strip():
            ids.append(json.loads(raw)["custom_id"])
    return ids


class BatchRun:
    """The batches of one run directory and the client that drives them."""

    def __init__(
        self,
        client: OpenAI,
        directory: Path,
        log: AnswerLog,
        *,
        state_extra: dict[str, Any],
        azure: bool = False,
        max_requests: int = MAX_REQUESTS_PER_FILE,
        max_bytes: int = MAX_BYTES_PER_FILE,
    ) -> None:
        self.client = client
        self.directory = directory
        self.log = log
        self.state = BatchState.load(directory)
        self.state_extra = state_extra
        # Azure's batch endpoint and request lines name the route without the /v1 prefix.
        self.endpoint = "/chat/completions" if azure else "/v1/chat/completions"
        self.max_requests = max_requests
        self.max_bytes = max_bytes

    def _save(self) -> None:
        self.state.save(self.directory, self.state_extra)

    def in_flight(self) -> set[str]:
        """Ids in parts whose batches have not been collected yet."""
        return {
            custom_id
            for part in self.state.parts
            if not part.collected
            for custom_id in _part_ids(self.directory, part)
        }

    def plan_parts(self, requests: Sequence[AnnotationRequest]) -> list[BatchPart]:
        """Write input parts for the requests that are neither finished nor in a running batch."""
        running = self.in_flight()
        pending = [r for r in requests if not self.log.finished(r.custom_id) and r.custom_id not in running]
        lines = []
        for request in pending:
            record = json.loads(request.batch_line())
            record["url"] = self.endpoint
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        new = []
        for chunk in split_into_files(lines, max_requests=self.max_requests, max_bytes=self.max_bytes):
            text = "".join(line + "\n" for line in chunk.lines).encode()
            name = f"{UPLOADS}/part-{len(self.state.parts) + 1:05d}{_UPLOAD_SUFFIX}"
            atomic_write_bytes(self.directory / name, text)
            part = BatchPart(name, len(chunk.lines), hashlib.sha256(text).hexdigest())
            self.state.parts.append(part)
            new.append(part)
        if new:
            self._save()
        return new

    def submit(self) -> None:
        """Upload and create a batch for every part that lacks one, saving the state after each call."""
        for part in self.state.parts:
            if part.input_file_id is None:
                data = (self.directory / part.file).read_bytes()
                upload_name = Path(part.file).name.removesuffix(".upload")
                uploaded = self.client.files.create(file=(upload_name, data), purpose="batch")
                part.input_file_id = uploaded.id
                self._save()
            if part.batch_id is None:
                batch = self.client.batches.create(
                    input_file_id=part.input_file_id,
                    endpoint=self.endpoint,  # type: ignore[arg-type]
                    completion_window="24h",
                    metadata={"created_by": "nerd annotate", "part": part.file},
                )
                part.batch_id = batch.id
                part.status = batch.status
                self._save()

    def refresh(self, *, save: bool = True) -> BatchTally:
        """Ask the API how every uncollected batch stands; collect those that have ended."""
        for part in self.state.parts:
            if part.collected or part.batch_id is None:
                continue
            batch = self.client.batches.retrieve(part.batch_id)
            part.status = batch.status
            counts = batch.request_counts
            part.completed = counts.completed if counts else 0
            part.failed = counts.failed if counts else 0
            part.output_file_id = batch.output_file_id
            part.error_file_id = batch.error_file_id
            if save and batch.status in TERMINAL:
                self._collect(part, _batch_errors(batch))
            if save:
                self._save()
        return self.tally()

    def tally(self) -> BatchTally:
        tally = BatchTally()
        for part in self.state.parts:
            tally.requests += part.requests
            tally.completed += part.completed
            tally.failed += part.failed
            tally.running += 0 if part.collected else 1
            status = part.status or "not submitted"
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
        return tally

    def _collect(self, part: BatchPart, batch_errors: str) -> None:
        ids = set(_part_ids(self.directory, part))
        stem = Path(part.file).name.removesuffix(_UPLOAD_SUFFIX)
        for kind, file_id in (("output", part.output_file_id), ("errors", part.error_file_id)):
            if not file_id:
                continue
            data = self.client.files.content(file_id).content
            atomic_write_bytes(self.directory / DOWNLOADS / f"{stem}.{kind}.jsonl.download", data)
            strays = sum(not self._merge(raw, ids) for raw in data.splitlines() if raw.strip())
            if strays:
                warnings.warn(
                    f"batch {part.batch_id}: {strays} line(s) of its {kind} file name no request of "
                    f"{part.file}; kept in {DOWNLOADS}/ only",
                    NerdWarning,
                    stacklevel=2,
                )
        for custom_id in sorted(ids):
            if not self.log.finished(custom_id):
                message = f"batch {part.batch_id} ended '{part.status}' without an answer for this request"
                if batch_errors:
                    message += f": {batch_errors}"
                self.log.record_failure(error_line(custom_id, f"batch_{part.status}", message))
        part.collected = True

    def _merge(self, raw: bytes, ids: set[str]) -> bool:
        """One downloaded line into the log; False for a line that names no request of this part."""
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):  # broken JSON, bad UTF-8, or an integer of 4,300+ digits
            return False
        custom_id = record.get("custom_id") if isinstance(record, dict) else None
        if not isinstance(custom_id, str) or custom_id not in ids:
            return False
        response = record.get("response")
        if not record.get("error") and isinstance(response, dict) and response.get("status_code") == 200:
            self.log.record_answer(record)
        else:
            self.log.record_failure(record)
        return True


def _batch_errors(batch: Any) -> str:
    errors = getattr(batch, "errors", None)
    data = getattr(errors, "data", None) or []
    return "; ".join(f"{error.code}: {error.message}" for error in data[:3] if error is not None)


def wait_for_batches(
    run: BatchRun,
    *,
    poll_interval: float,
    on_poll: Callable[[BatchTally], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchTally:
    """Poll every ``poll_interval`` seconds until every batch of the run has been collected."""
    while True:
        tally = run.refresh()
        if on_poll is not None:
            on_poll(tally)
        if tally.running == 0:
            return tally
        sleep(poll_interval)
