"""One annotation run directory: the requests it answers, what is already done, and the accounting.

``nerd annotate`` leaves in its ``--out`` directory exactly what ``nerd import`` reads: the requests
(``requests-NNNNN.jsonl`` and ``manifest.json``, as sent, overrides applied), ``output.jsonl`` and
``errors.jsonl``. A directory belongs to one request set; running the same command again resumes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.annotation.answer_log import AnswerLog
from nerd.annotation.batch_requests import split_into_files, write_request_files
from nerd.annotation.request_set import AnnotationRequest, read_requests, request_files
from nerd.atomic import atomic_write_text
from nerd.errors import ConfigError, InputError

# Shared with the Batch transport, which adds its batches to the same file.
STATE_FILE = "state.json"
# A rough rule for English with OpenAI's tokenisers; the tokeniser itself is not available offline.
CHARACTERS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


@dataclass(frozen=True)
class Accounting:
    """Where every request id of a run stands: exactly one of answered, failed or pending."""

    requests: int
    answered: int
    failed: int
    pending: int

    @property
    def complete(self) -> bool:
        return self.pending == 0


@dataclass(frozen=True)
class Estimate:
    """What a run would send, before it is sent."""

    requests: int
    prompt_tokens: int
    cost: float | None


def requests_digest(requests: Sequence[AnnotationRequest]) -> str:
    """One sha256 over the request lines as sent: a run directory answers exactly this set."""
    digest = hashlib.sha256()
    for request in requests:
        digest.update(request.batch_line().encode())
        digest.update(b"\n")
    return digest.hexdigest()


class AnnotateRun:
    """The requests of a run and the log of its answers, bound to one ``--out`` directory."""

    def __init__(
        self,
        requests: list[AnnotationRequest],
        directory: Path,
        sources: Sequence[Path],
        *,
        repair: bool = True,
    ) -> None:
        self.requests = requests
        self.directory = directory
        self.sources = list(sources)
        self.digest = requests_digest(requests)
        self._check_directory()
        self.log = AnswerLog(directory, repair=repair)

    @classmethod
    def open(
        cls,
        sources: Sequence[Path],
        directory: Path,
        *,
        model: str | None = None,
        temperature: float | None = None,
        repair: bool = True,
    ) -> AnnotateRun:
        """Read and check the requests and bind them to ``directory`` (``repair``: a torn last line of
        a result file may be cut off; a dry run writes nothing).

        Raises:
            InputError: bad request files, or a source inside ``directory``.
            ConfigError: ``directory`` already answers another request set.
        """
        out = directory.resolve()
        for path in request_files(sources):
            if path.resolve().is_relative_to(out):
                raise InputError(
                    "a request file inside the --out directory; give the files nerd prompts wrote", path=path
                )
        requests = read_requests(sources, model=model, temperature=temperature)
        return cls(requests, directory, sources, repair=repair)

    def _check_directory(self) -> None:
        path = self.directory / STATE_FILE
        if not path.exists():
            return
        try:
            recorded = json.loads(path.read_text(encoding="utf-8")).get("requests_sha256")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
            raise InputError(f"not a run file: {error}", path=path) from None
        if recorded != self.digest:
            raise ConfigError(
                f"{self.directory} answers another set of requests (or other --model / --temperature); "
                "give a new --out, or the same requests and overrides to resume"
            )

    def state(self, **extra: Any) -> dict[str, Any]:
        """What ``state.json`` records about the run (never a key)."""
        return {"requests_sha256": self.digest, "requests": len(self.requests), **extra}

    def write_requests(self, via: str) -> None:
        """Write the requests as sent beside the answers, with the prompts' manifest, and ``state.json``
        (kept as it is when resuming: it may hold batches)."""
        prompts = []
        for source in self.sources:
            manifest = (source if source.is_dir() else source.parent) / "manifest.json"
            if manifest.is_file():
                try:
                    prompts.append(json.loads(manifest.read_text(encoding="utf-8")))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    prompts.append({"file": str(manifest), "unreadable": True})
        files = split_into_files(request.batch_line() for request in self.requests)
        manifest = {"written_by": "nerd annotate", "via": via, "sources": [str(s) for s in self.sources]}
        if prompts:
            manifest["prompts"] = prompts
        write_request_files(self.directory, files, manifest, force=True)
        if not (self.directory / STATE_FILE).exists():
            atomic_write_text(self.directory / STATE_FILE, json.dumps(self.state(via=via), indent=2) + "\n")

    def pending(self) -> list[AnnotationRequest]:
        return [request for request in self.requests if not self.log.finished(request.custom_id)]

    def retry_failures(self) -> int:
        """Take the failed ids of this set out of ``errors.jsonl`` so that they are sent again."""
        return self.log.forget_failures(request.custom_id for request in self.requests)

    def accounting(self) -> Accounting:
        ids = {request.custom_id for request in self.requests}
        answered = len(ids & self.log.answered)
        failed = len(ids & (self.log.failed - self.log.answered))
        return Accounting(len(ids), answered, failed, len(ids) - answered - failed)

    def estimate(self, price_per_million: float | None = None) -> Estimate:
        """Prompt tokens of the pending requests (characters / 4, plus a few a message) and their cost."""
        pending = self.pending()
        tokens = sum(
            request.prompt_characters() // CHARACTERS_PER_TOKEN
            + TOKENS_PER_MESSAGE * len(request.body["messages"])
            for request in pending
        )
        cost = None if price_per_million is None else tokens * price_per_million / 1_000_000
        return Estimate(len(pending), tokens, cost)
