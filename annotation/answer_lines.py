"""Reading a teacher's answer files (JSONL) line by line, never failing on a line's bytes.

Every line comes back as a :class:`AnswerLine`: parsed JSON, or the reason it could not be parsed
(invalid UTF-8, broken JSON, too long, not an object), with the raw text kept for the rejects file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.annotation.reject_reasons import RejectReason
from nerd.errors import AnswerFilesError, InputError
from nerd.json_files import json_error_text, lone_surrogate

# No honest record comes near this; a longer line is rejected without being parsed.
MAX_LINE_BYTES = 4 * 1024 * 1024
# A Batch line has its own "id" before "custom_id": the custom_id is the one that names the request.
_ID_FIELDS = (
    re.compile(rb'"custom_id"\s*:\s*"((?:[^"\\]|\\.){1,200})"'),
    re.compile(rb'"id"\s*:\s*"((?:[^"\\]|\\.){1,200})"'),
)


@dataclass(frozen=True)
class AnswerLine:
    """One line of an answer file: its JSON object, or why it has none."""

    path: str
    number: int
    data: dict[str, Any] | None
    raw: str
    problem: RejectReason | None = None
    detail: str | None = None
    recovered_id: str | None = None


def discover(
    sources: Sequence[Path],
    pattern: str = "*.jsonl",
    *,
    recursive: bool = True,
    error: type[InputError] = AnswerFilesError,
) -> list[Path]:
    """The files named by ``sources``: files as given, directories searched for ``pattern`` (below them
    too when ``recursive``), each file once.

    Raises:
        ``error``: a source that does not exist, or a directory without a matching file.
    """
    found: list[Path] = []
    for source in sources:
        if source.is_dir():
            matches = source.rglob(pattern) if recursive else source.glob(pattern)
            inside = sorted(path for path in matches if path.is_file())
            if not inside:
                below = " (or below it)" if recursive else ""
                raise error(f"no {pattern} file in this directory{below}", path=source)
            found.extend(inside)
        elif source.is_file():
            found.append(source)
        else:
            raise error("no such file or directory", path=source)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def read_lines(path: Path) -> Iterator[AnswerLine]:
    """Every non-blank line of a JSONL file, parsed where possible.

    Raises:
        AnswerFilesError: the file cannot be opened.
    """
    try:
        stream = path.open("rb")
    except OSError as error:
        raise AnswerFilesError(f"cannot read: {error.strerror or error}", path=path) from None
    with stream:
        for number, data in enumerate(stream, start=1):
            if not data.strip():
                continue
            yield _parse(str(path), number, data)


def _parse(path: str, number: int, data: bytes) -> AnswerLine:
    if len(data) > MAX_LINE_BYTES:
        return _broken(
            path, number, data, RejectReason.LINE_TOO_LONG, f"{len(data)} bytes (limit {MAX_LINE_BYTES})"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return _broken(path, number, data, "invalid_utf8", f"byte {error.start}: {error.reason}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return _broken(path, number, data, RejectReason.BROKEN_JSON_LINE, json_error_text(error))
    except RecursionError:
        return _broken(path, number, data, RejectReason.BROKEN_JSON_LINE, "nested too deeply")
    except ValueError as error:  # an integer of more than 4,300 digits
        return _broken(path, number, data, RejectReason.BROKEN_JSON_LINE, str(error).split(";")[0])
    if not isinstance(value, dict):
        return _broken(
            path, number, data, RejectReason.WRONG_SHAPE, f"a JSON {type(value).__name__}, not an object"
        )
    surrogate = lone_surrogate(value)
    if surrogate is not None:
        return _broken(path, number, data, RejectReason.LONE_SURROGATE, surrogate)
    return AnswerLine(path, number, value, text.rstrip("\r\n"))


def _broken(path: str, number: int, data: bytes, problem: RejectReason, detail: str) -> AnswerLine:
    head = data[:65536]
    match = next((found for pattern in _ID_FIELDS if (found := pattern.search(head))), None)
    recovered = None
    if match is not None:
        try:
            recovered = json.loads(b'"' + match.group(1) + b'"')
            recovered.encode("utf-8")  # a lone surrogate is no id anything can be written under
        except (json.JSONDecodeError, UnicodeDecodeError, UnicodeEncodeError):
            recovered = None
    raw = data.decode("utf-8", errors="backslashreplace").rstrip("\r\n")
    return AnswerLine(path, number, None, raw, problem, detail, recovered)
