"""The annotation requests a run sends: read from ``nerd prompts`` / ``nerd evolve plan`` files, checked
before anything is sent, with the model and temperature optionally overridden.

A request file is the project's own output; a line that is not a valid chat-completions request means
the file was damaged or hand-edited, so the whole set is refused, every bad line named, and nothing is
paid for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.annotation.answer_lines import discover, read_lines
from nerd.annotation.batch_requests import CHAT_COMPLETIONS, PART_PATTERN
from nerd.errors import InputError

CHAT_URLS = frozenset({CHAT_COMPLETIONS, "/chat/completions"})
# A custom_id names the request in every file that follows; the Batch API's own limit is 64 characters.
MAX_CUSTOM_ID = 64
_SHOWN_PROBLEMS = 10


@dataclass(frozen=True)
class AnnotationRequest:
    """One chat-completions request: its id, the body to send, and where it was read."""

    custom_id: str
    body: dict[str, Any]
    path: str
    line: int

    def batch_line(self) -> str:
        """The request as a Batch API input line (no trailing newline)."""
        record = {
            "custom_id": self.custom_id,
            "method": "POST",
            "url": CHAT_COMPLETIONS,
            "body": self.body,
        }
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))

    def prompt_characters(self) -> int:
        """Characters of message text, for a token estimate before anything is sent."""
        total = 0
        for message in self.body["messages"]:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                total += len(content)
            elif isinstance(content, list):
                total += sum(len(part.get("text", "")) for part in content if isinstance(part, dict))
        return total


def request_files(sources: Sequence[Path]) -> list[Path]:
    """The request files named by ``sources``: files as given, directories' ``requests-*.jsonl``.

    Raises:
        InputError: a source that does not exist, or a directory without request files.
    """
    return discover(sources, PART_PATTERN, recursive=False, error=InputError)


def _problem(data: dict[str, Any]) -> tuple[str, str] | None:
    """(field, what is wrong) for a line that is not a chat-completions request, else None."""
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id.strip():
        return "custom_id", "missing or not a non-empty string"
    if len(custom_id) > MAX_CUSTOM_ID:
        return "custom_id", f"{len(custom_id)} characters, over the API's {MAX_CUSTOM_ID}"
    if data.get("method", "POST") != "POST":
        return "method", f"{data.get('method')!r}, not POST"
    if data.get("url", CHAT_COMPLETIONS) not in CHAT_URLS:
        return "url", f"{data.get('url')!r}: only chat completions requests can be sent"
    body = data.get("body")
    if not isinstance(body, dict):
        return "body", "missing or not an object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "body.model", "missing or not a string"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "body.messages", "missing or not a non-empty list"
    if not all(isinstance(message, dict) and isinstance(message.get("role"), str) for message in messages):
        return "body.messages", "every message must be an object with a role"
    if body.get("stream"):
        return "body.stream", "streamed answers cannot be carried as answer files"
    return None


def read_requests(
    sources: Sequence[Path], *, model: str | None = None, temperature: float | None = None
) -> list[AnnotationRequest]:
    """Every request of ``sources`` in file order, each id once, with the overrides applied.

    The same id twice with the same body (a file given twice, a retry file beside its original) is
    read once; the same id with different bodies is an error, since its answer could not say which
    it answers.

    Raises:
        InputError: unreadable files, bad lines (all named, up to ten), conflicting ids, or no request.
    """
    requests: dict[str, AnnotationRequest] = {}
    problems: list[str] = []
    for path in request_files(sources):
        for line in read_lines(path):
            where = f"{line.path}:{line.number}"
            if line.data is None:
                problems.append(f"{where}: {line.problem}: {line.detail}")
                continue
            problem = _problem(line.data)
            if problem is not None:
                problems.append(f"{where} [{problem[0]}]: {problem[1]}")
                continue
            body = dict(line.data["body"])
            if model is not None:
                body["model"] = model
            if temperature is not None:
                body["temperature"] = temperature
            request = AnnotationRequest(line.data["custom_id"], body, line.path, line.number)
            earlier = requests.get(request.custom_id)
            if earlier is None:
                requests[request.custom_id] = request
            elif earlier.body != request.body:
                problems.append(
                    f"{where} [custom_id]: {request.custom_id!r} also at {earlier.path}:{earlier.line} "
                    "with a different body"
                )
    if problems:
        shown = "\n  ".join(problems[:_SHOWN_PROBLEMS])
        more = (
            f"\n  ... and {len(problems) - _SHOWN_PROBLEMS} more" if len(problems) > _SHOWN_PROBLEMS else ""
        )
        raise InputError(
            f"{len(problems)} request line(s) cannot be sent; nothing was sent:\n  {shown}{more}"
        )
    if not requests:
        raise InputError("no request to send in " + ", ".join(str(source) for source in sources))
    return list(requests.values())
