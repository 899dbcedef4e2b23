"""The one way nerd reads JSONL and line-based text: what a line is, and what a line's JSON is.

A line is what ends in ``\\n`` (a ``\\r`` before it is dropped), nothing else: Python's ``str.splitlines``
also splits on U+2028, U+0085, ``\\x1c`` and others, which appear unescaped inside JSON strings and in
real text. A UTF-8 byte-order mark at the start of a file is skipped, whichever file it is (editors on
Windows write one). Each line is parsed on its own and a bad one says why, so one line never hides the
others: the caller decides whether that is a reject or an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from nerd.json_files import json_error_text, lone_surrogate

BOM = "\ufeff"
BOM_BYTES = BOM.encode("utf-8")
# No honest record comes near this; a longer line is refused without being parsed.
MAX_LINE_BYTES = 4 * 1024 * 1024


class LineProblem(StrEnum):
    """Why a JSONL line has no JSON value (the values are the import's reject reasons)."""

    INVALID_UTF8 = "invalid_utf8"
    BROKEN_JSON_LINE = "broken_json_line"
    LINE_TOO_LONG = "line_too_long"
    LONE_SURROGATE = "lone_surrogate"


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line of a JSONL file: its value, or why it has none."""

    number: int  # 1-based, counting blank lines too
    raw: bytes  # the line without its line end (and without the file's BOM)
    value: Any = None
    problem: LineProblem | None = None
    detail: str | None = None


def numbered_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(1-based number, bytes without the line end) of every non-blank line of a binary stream.

    ``chunks`` is anything that yields ``\\n``-terminated pieces: an open binary file, ``io.BytesIO``.

    >>> list(numbered_lines([b"\\xef\\xbb\\xbf{}\\r\\n", b"\\n", b"[1, 2]"]))
    [(1, b'{}'), (3, b'[1, 2]')]
    """
    for number, data in enumerate(chunks, start=1):
        if number == 1 and data.startswith(BOM_BYTES):
            data = data[len(BOM_BYTES) :]
        data = data.removesuffix(b"\n").removesuffix(b"\r")
        if data.strip():
            yield number, data


def text_lines(text: str) -> list[str]:
    """The lines of a text: split at ``\\n`` only (``\\r\\n`` too), a leading BOM dropped.

    >>> text_lines("\\ufeffone\\u2028still one\\r\\ntwo\\x1cstill two\\n")
    ['one\\u2028still one', 'two\\x1cstill two']
    """
    text = text.removeprefix(BOM)
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse_json_line(number: int, data: bytes) -> JsonLine:
    """A line's JSON value (any JSON type; no lone surrogate inside), or the problem that stops it."""
    if len(data) > MAX_LINE_BYTES:
        return JsonLine(
            number, data, None, LineProblem.LINE_TOO_LONG, f"{len(data)} bytes (limit {MAX_LINE_BYTES})"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return JsonLine(number, data, None, LineProblem.INVALID_UTF8, f"byte {error.start}: {error.reason}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return JsonLine(number, data, None, LineProblem.BROKEN_JSON_LINE, json_error_text(error))
    except RecursionError:
        return JsonLine(number, data, None, LineProblem.BROKEN_JSON_LINE, "nested too deeply")
    except ValueError as error:  # an integer of more than 4,300 digits
        return JsonLine(number, data, None, LineProblem.BROKEN_JSON_LINE, str(error).split(";")[0])
    surrogate = lone_surrogate(value)
    if surrogate is not None:
        return JsonLine(number, data, None, LineProblem.LONE_SURROGATE, surrogate)
    return JsonLine(number, data, value)


def read_jsonl(path: Path) -> Iterator[JsonLine]:
    """Every non-blank line of a JSONL file, parsed where possible (see :func:`parse_json_line`).

    Raises:
        OSError: the file cannot be opened or read (callers name it in their own error).
    """
    with path.open("rb") as stream:
        for number, data in numbered_lines(stream):
            yield parse_json_line(number, data)


def readable_field(data: bytes, names: tuple[str, ...], *, limit: int = 65536) -> str | None:
    """The first of ``names`` found as a top-level string (or integer) field of a JSON object line that
    does not parse: the id of a line cut off after it, or broken further on.

    Only keys of the outer object count (a Batch line's nested ``"id"`` of the response does not).

    >>> readable_field(b'{"id": 17, "text": "cut o', ("custom_id", "id"))
    '17'
    >>> readable_field(b'{"response": {"id": "x"}, "custom_id": "c-1", "broken', ("custom_id", "id"))
    'c-1'
    """
    text = data[:limit].decode("utf-8", errors="replace").removeprefix(BOM)
    start = len(text) - len(text.lstrip())
    if not text[start:].startswith("{"):
        return None
    found = _top_level_values(text, start + 1, set(names))
    return next((found[name] for name in names if name in found), None)


_DECODER = json.JSONDecoder(strict=False)


def _top_level_values(text: str, position: int, names: set[str]) -> dict[str, str]:
    """Scan one JSON object's outer keys from ``position`` until the text stops parsing."""
    found: dict[str, str] = {}
    depth, expect_key, end = 1, True, len(text)
    while position < end and depth > 0:
        char = text[position]
        if char == '"':
            try:
                value, after = _DECODER.raw_decode(text, position)
            except ValueError:
                break
            if depth == 1 and expect_key:
                colon = _skip_space(text, after)
                if colon < end and text[colon] == ":":
                    expect_key = False
                    start = _skip_space(text, colon + 1)
                    if value in names and start < end and text[start] not in "{[":
                        try:
                            field, after = _DECODER.raw_decode(text, start)
                        except ValueError:
                            break
                        if isinstance(field, str) and field.strip() and lone_surrogate(field) is None:
                            found.setdefault(value, field)  # a lone surrogate is no id a file can hold
                        elif isinstance(field, int) and not isinstance(field, bool):
                            found.setdefault(value, str(field))
                    else:
                        after = start
            position = after
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        elif char == "," and depth == 1:
            expect_key = True
        position += 1
    return found


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position
