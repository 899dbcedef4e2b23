"""Reading a teacher's answer files (JSONL) line by line, never failing on a line's bytes.

Every line comes back as a :class:`AnswerLine`: parsed JSON, or the reason it could not be parsed
(invalid UTF-8, broken JSON, too long, not an object), with the raw text kept for the rejects file and
the line's id whenever it can still be read. Lines are read as every JSONL file of nerd is
(:mod:`nerd.jsonl`: ``\n`` ends a line, a leading BOM is skipped).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.annotation.reject_reasons import RejectReason
from nerd.errors import AnswerFilesError, InputError
from nerd.jsonl import JsonLine, read_jsonl, readable_field

# A Batch line has its own "id" before "custom_id": the custom_id is the one that names the request.
ID_FIELDS = ("custom_id", "id")


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
        AnswerFilesError: the file cannot be opened or read.
    """
    try:
        yield from (_answer_line(str(path), line) for line in read_jsonl(path))
    except OSError as error:
        raise AnswerFilesError(f"cannot read: {error.strerror or error}", path=path) from None


def _answer_line(path: str, line: JsonLine) -> AnswerLine:
    if line.problem is not None:
        return _broken(path, line, RejectReason(line.problem), line.detail or "")
    if not isinstance(line.value, dict):
        return _broken(
            path, line, RejectReason.WRONG_SHAPE, f"a JSON {type(line.value).__name__}, not an object"
        )
    return AnswerLine(path, line.number, line.value, line.raw.decode("utf-8"))


def _broken(path: str, line: JsonLine, problem: RejectReason, detail: str) -> AnswerLine:
    raw = line.raw.decode("utf-8", errors="backslashreplace")
    return AnswerLine(path, line.number, None, raw, problem, detail, readable_field(line.raw, ID_FIELDS))
