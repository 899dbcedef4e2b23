"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from nerd.errors import NerdError


class OutputError(NerdError):
    """An output that cannot be written where it was asked for."""


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def new_file_mode() -> int:
    """The permissions a new file gets here (0644 under the usual umask 022)."""
    return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_writer(
    path: str | Path, *, binary: bool = False, mode: int | None = None, exclusive: bool = False
) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path`` in one rename.

    ``mode``: the file's permissions from its creation on (a secret is never readable by others, not
    even for a moment); default: those of any new file. ``exclusive``: never replace an existing
    ``path`` (the file is linked into place, which fails if the name is taken).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise OutputError(f"{target}: cannot write: {error.strerror or error}") from None
    try:
        # mkstemp creates 0600 files; the output should get the permissions any new file would.
        os.chmod(temporary, new_file_mode() if mode is None else mode)
        open_mode = "wb" if binary else "w"
        encoding = None if binary else "utf-8"
        with os.fdopen(handle, open_mode, encoding=encoding, newline=None if binary else "") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if exclusive:
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise OutputError(f"{target}: already exists; not overwritten") from None
            os.unlink(temporary)
        else:
            os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically."""
    with atomic_writer(path) as stream:
        stream.write(text)


def atomic_write_bytes(
    path: str | Path, data: bytes, *, mode: int | None = None, exclusive: bool = False
) -> None:
    """Write bytes to ``path`` atomically (``mode`` and ``exclusive`` as in :func:`atomic_writer`)."""
    with atomic_writer(path, binary=True, mode=mode, exclusive=exclusive) as stream:
        stream.write(data)
