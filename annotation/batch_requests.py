"""OpenAI Batch API request files: stable ids, split at the API's limits, with a manifest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerd.atomic import OutputError, atomic_write_text

# The Batch API takes at most 50,000 requests and 200 MB per input file.
MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 200_000_000
CHAT_COMPLETIONS = "/v1/chat/completions"
# The teacher of the paper (GPT-4 Turbo preview, January 2024).
DEFAULT_MODEL = "gpt-4-0125-preview"
PART_PATTERN = "requests-*.jsonl"


def custom_id(prefix: str, version: str, tokens: Sequence[str]) -> str:
    """A stable id: the same sentence and prompt version always give the same id.

    >>> custom_id("valid", "cot-v1", ["Acme", "buys", "Danish", "rival"])
    'valid-161c0186a9017da4'
    """
    digest = hashlib.sha256(f"{version}\n{' '.join(tokens)}".encode()).hexdigest()
    return f"{prefix}-{digest[:16]}"


def request_line(
    identifier: str,
    model: str,
    temperature: float,
    messages: list[dict[str, Any]],
    max_tokens: int | None = None,
) -> str:
    """One Batch request as a JSON line (no trailing newline)."""
    body: dict[str, Any] = {"model": model, "temperature": temperature, "messages": messages}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    request = {"custom_id": identifier, "method": "POST", "url": CHAT_COMPLETIONS, "body": body}
    return json.dumps(request, ensure_ascii=False, separators=(",", ":"))


@dataclass
class RequestFile:
    """One part of a split request set."""

    name: str
    lines: list[str] = field(default_factory=list)
    size: int = 0

    def describe(self, text: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "requests": len(self.lines),
            "bytes": len(text.encode()),
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        }


def split_into_files(
    lines: Iterable[str], *, max_requests: int = MAX_REQUESTS_PER_FILE, max_bytes: int = MAX_BYTES_PER_FILE
) -> list[RequestFile]:
    """Group request lines into files that respect both limits.

    Raises:
        OutputError: a single request larger than ``max_bytes``.
    """
    files: list[RequestFile] = []
    current: RequestFile | None = None
    for line in lines:
        size = len(line.encode()) + 1
        if size > max_bytes:
            raise OutputError(f"one request is {size} bytes, over the {max_bytes}-byte file limit")
        if current is None or len(current.lines) >= max_requests or current.size + size > max_bytes:
            current = RequestFile(f"requests-{len(files) + 1:05d}.jsonl")
            files.append(current)
        current.lines.append(line)
        current.size += size
    return files


def write_request_files(
    out_dir: Path, files: Sequence[RequestFile], manifest: dict[str, Any], *, force: bool = False
) -> dict[str, Any]:
    """Write the parts and ``manifest.json`` (with each part's sha256); returns the manifest.

    Raises:
        OutputError: ``out_dir`` already holds request files and ``force`` is not set.
    """
    existing = sorted(out_dir.glob(PART_PATTERN)) if out_dir.is_dir() else []
    if existing and not force:
        raise OutputError(
            f"{out_dir}: already holds request files ({existing[0].name}, ...); use --force to replace them"
        )
    described = []
    for part in files:
        text = "".join(line + "\n" for line in part.lines)
        atomic_write_text(out_dir / part.name, text)
        described.append(part.describe(text))
    names = {part.name for part in files}
    for stale in existing:
        if stale.name not in names:
            stale.unlink()
    manifest = {**manifest, "files": described}
    atomic_write_text(out_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return manifest
