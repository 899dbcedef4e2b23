"""An archive read as documents, streaming: every record of every input ends as a document or a reject.

Inputs are files, folders (every file under them, sorted) and globs, in the order given. What a file
holds is told by its name, a ``.gz`` after it read through gzip: ``.txt`` (the file is one document),
``.jsonl``/``.ndjson`` (a document a line, ``text_field`` and ``id_field``), ``.csv`` (a document a row,
columns of those names), ``.parquet`` (a document a row, read a batch of rows at a time) and
``.conll``/``.conllu`` (a document a sentence, its tokens joined by single spaces). Nothing is skipped
without a word: a file of another kind, a line that is not JSON, a text that is not UTF-8, empty or over
the cap, a truncated gzip or a corrupt Parquet file is a :class:`Rejected` item saying where and why.

Each file's records are numbered (its ``ordinal``: lines, rows, sentences), so a reader can start
part-way through (``skip``) and a run killed half-way, or a Ray read task, reads exactly the records it
is given.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from nerd.errors import InputError
from nerd.jsonl import MAX_LINE_BYTES, numbered_lines, parse_json_line

# The largest document read: a bigger one is rejected (a whole book in one record is a mistake more
# often than a document). One million characters is some 200,000 words.
DEFAULT_MAX_CHARS = 1_000_000
PARQUET_BATCH_ROWS = 2048


class InputKind(StrEnum):
    text = "text"
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"
    conll = "conll"


SUFFIXES = {
    ".txt": InputKind.text,
    ".jsonl": InputKind.jsonl,
    ".ndjson": InputKind.jsonl,
    ".csv": InputKind.csv,
    ".parquet": InputKind.parquet,
    ".conll": InputKind.conll,
    ".conllu": InputKind.conll,
}


class RejectReason(StrEnum):
    UNKNOWN_FORMAT = "unknown_format"
    INVALID_UTF8 = "invalid_utf8"
    BROKEN_JSON_LINE = "broken_json_line"
    LINE_TOO_LONG = "line_too_long"
    LONE_SURROGATE = "lone_surrogate"
    NO_TEXT_FIELD = "no_text_field"
    NOT_TEXT = "not_text"
    EMPTY = "empty"
    OVER_SIZE_CAP = "over_size_cap"
    UNREADABLE_FILE = "unreadable_file"  # a truncated gzip, a corrupt Parquet file, an I/O error


@dataclass(frozen=True)
class Fields:
    """Where a record keeps its text and its id (JSONL keys, CSV and Parquet columns)."""

    text: str = "text"
    id: str | None = None
    max_chars: int = DEFAULT_MAX_CHARS


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    source: str  # file:line, file row N or the file itself: where it was read


@dataclass(frozen=True)
class Rejected:
    source: str
    reason: RejectReason
    detail: str
    id: str | None = None

    def record(self) -> dict[str, Any]:
        found = {"source": self.source, "reason": str(self.reason), "detail": self.detail}
        return found | ({"id": self.id} if self.id is not None else {})


Item = Document | Rejected


def input_files(inputs: Sequence[str | Path]) -> list[Path]:
    """Every file the inputs name, in the order given (a folder's and a glob's sorted), each once.

    Raises:
        InputError: an input that is neither a file, a folder nor a glob matching something; no file.
    """
    found: dict[Path, None] = {}
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            matched = sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            matched = [path]
        elif glob.has_magic(str(given)):
            matched = sorted(Path(p) for p in glob.glob(str(given), recursive=True) if Path(p).is_file())
        else:
            raise InputError("no such file or folder", path=path)
        if not matched:
            raise InputError("names no file", path=path)
        found.update(dict.fromkeys(matched))
    if not found:
        raise InputError("no input files given")
    return list(found)


def kind_of(path: Path) -> InputKind | None:
    """The kind of file its name says (a ``.gz`` after the suffix read through gzip), else None."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return SUFFIXES.get(suffixes[-1]) if suffixes else None


def read_items(path: Path, fields: Fields, skip: int = 0) -> Iterator[tuple[int, Item]]:
    """(ordinal, item) of each record of one file from its ``skip``-th on; errors become rejects.

    A file that breaks off (truncated gzip, corrupt Parquet, an I/O error) ends in one reject naming
    where it broke, after the records read before it.
    """
    kind = kind_of(path)
    if kind is None:
        if skip == 0:
            known = ", ".join(SUFFIXES)
            yield 0, Rejected(str(path), RejectReason.UNKNOWN_FORMAT, f"not one of {known} (or .gz of one)")
        return
    reader = {
        InputKind.text: _text_file,
        InputKind.jsonl: _jsonl_file,
        InputKind.csv: _csv_file,
        InputKind.parquet: _parquet_file,
        InputKind.conll: _conll_file,
    }[kind]
    ordinal = -1
    position = str(path)
    try:
        for ordinal, where, item in reader(path, fields, skip):
            position = where
            yield ordinal, item
    except (OSError, EOFError, zlib.error, csv.Error, ValueError) as error:
        # pyarrow's errors are OSError and ValueError subclasses; gzip's are EOFError, OSError, zlib.error.
        detail = f"{type(error).__name__}: {error}".strip()
        yield ordinal + 1, Rejected(f"{position} (read up to here)", RejectReason.UNREADABLE_FILE, detail)


def _open(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def checked(text: Any, identifier: str, source: str, fields: Fields) -> Item:
    """A document, or why this value is none."""
    if not isinstance(text, str):
        return Rejected(source, RejectReason.NOT_TEXT, f"the text is {type(text).__name__}", identifier)
    if "\x00" in text:
        return Rejected(source, RejectReason.NOT_TEXT, "holds NUL characters (binary data?)", identifier)
    if not text.strip():
        return Rejected(source, RejectReason.EMPTY, "no characters but blanks", identifier)
    if len(text) > fields.max_chars:
        detail = f"{len(text)} characters, over the cap of {fields.max_chars} (--max-chars)"
        return Rejected(source, RejectReason.OVER_SIZE_CAP, detail, identifier)
    return Document(identifier, text, source)


def _decoded(data: bytes, identifier: str, source: str, fields: Fields) -> Item:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejected(source, RejectReason.INVALID_UTF8, f"byte {error.start}: {error.reason}", identifier)
    return checked(text.removeprefix("\ufeff"), identifier, source, fields)


def _text_file(path: Path, fields: Fields, skip: int) -> Iterator[tuple[int, str, Item]]:
    if skip > 0:
        return
    with _open(path) as stream:
        # Read a byte past the cap's UTF-8 worst case only: a huge file is rejected without loading it.
        data = stream.read(fields.max_chars * 4 + 1)
    if len(data) > fields.max_chars * 4:
        reject = Rejected(str(path), RejectReason.OVER_SIZE_CAP, f"over {fields.max_chars} characters", None)
        yield 0, str(path), reject
        return
    yield 0, str(path), _decoded(data, str(path), str(path), fields)


def _jsonl_file(path: Path, fields: Fields, skip: int) -> Iterator[tuple[int, str, Item]]:
    with _open(path) as stream:
        for ordinal, (number, data) in enumerate(numbered_lines(stream)):
            if ordinal < skip:
                continue  # resuming: counted, not parsed
            source = f"{path}:{number}"
            line = parse_json_line(number, data)
            if line.problem is not None:
                yield ordinal, source, Rejected(source, RejectReason(line.problem), line.detail or "", None)
                continue
            value = line.value
            identifier = _identifier(value.get(fields.id) if isinstance(value, dict) and fields.id else None)
            identifier = identifier or source
            if not isinstance(value, dict):
                detail = f"a JSON {type(value).__name__}, not an object"
                yield ordinal, source, Rejected(source, RejectReason.NOT_TEXT, detail, identifier)
            elif fields.text not in value:
                detail = f"no {fields.text!r} field (--text-field)"
                yield ordinal, source, Rejected(source, RejectReason.NO_TEXT_FIELD, detail, identifier)
            else:
                yield ordinal, source, checked(value[fields.text], identifier, source, fields)


def _identifier(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int):
        return str(value) or None
    return None


def _csv_file(path: Path, fields: Fields, skip: int) -> Iterator[tuple[int, str, Item]]:
    csv.field_size_limit(MAX_LINE_BYTES)
    with _open(path) as raw:
        # Bytes are decoded as they stream; a bad byte stops the file with its row (a reject).
        stream = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        rows = csv.DictReader(stream)
        columns = rows.fieldnames or []
        if fields.text not in columns:
            raise ValueError(f"no column {fields.text!r} (--text-field); the columns are {columns}")
        for ordinal, row in enumerate(rows):
            if ordinal < skip:
                continue
            source = f"{path}:{rows.line_num}"
            identifier = _identifier(row.get(fields.id)) if fields.id else None
            yield ordinal, source, checked(row[fields.text], identifier or source, source, fields)


def _parquet_file(path: Path, fields: Fields, skip: int) -> Iterator[tuple[int, str, Item]]:
    import pyarrow.parquet as parquet

    table = parquet.ParquetFile(path)
    names = table.schema_arrow.names
    if fields.text not in names:
        raise ValueError(f"no column {fields.text!r} (--text-field); the columns are {names}")
    columns = [fields.text, *([fields.id] if fields.id and fields.id in names else [])]
    ordinal = 0
    for batch in table.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
        if ordinal + batch.num_rows <= skip:
            ordinal += batch.num_rows
            continue
        texts = batch.column(fields.text).to_pylist()
        ids = batch.column(fields.id).to_pylist() if len(columns) > 1 else [None] * len(texts)
        for text, given in zip(texts, ids, strict=True):
            if ordinal >= skip:
                source = f"{path} row {ordinal}"
                yield ordinal, source, checked(text, _identifier(given) or source, source, fields)
            ordinal += 1


def _conll_file(path: Path, fields: Fields, skip: int) -> Iterator[tuple[int, str, Item]]:
    ordinal = 0
    tokens: list[str] = []
    first = 0
    with _open(path) as stream:
        for number, data in _all_lines(stream):
            try:
                line = data.decode("utf-8").strip()
            except UnicodeDecodeError as error:
                source = f"{path}:{number}"
                if ordinal >= skip:
                    detail = f"byte {error.start}: {error.reason}"
                    yield ordinal, source, Rejected(source, RejectReason.INVALID_UTF8, detail)
                ordinal += 1
                tokens = []
                continue
            if line.startswith("-DOCSTART-"):
                continue
            if line:
                first = first or number
                tokens.append(line.split()[0])
                continue
            if tokens:
                if ordinal >= skip:
                    source = f"{path}:{first}"
                    yield ordinal, source, checked(" ".join(tokens), source, source, fields)
                ordinal += 1
            tokens, first = [], 0
    if tokens and ordinal >= skip:
        source = f"{path}:{first}"
        yield ordinal, source, checked(" ".join(tokens), source, source, fields)


def _all_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Every line with its number, blank ones too (they end a CoNLL sentence)."""
    for number, data in enumerate(stream, start=1):
        if number == 1:
            data = data.removeprefix(b"\xef\xbb\xbf")
        yield number, data.removesuffix(b"\n").removesuffix(b"\r")
