"""``nerd review backup``: a consistent copy of a live review database, as a SQLite file.

SQLite is copied with its own online backup API (pages copied under a read lock, the WAL included),
so the copy is exactly the database at one moment even while reviewers decide. A PostgreSQL review is
read in one REPEATABLE READ transaction (one snapshot) into a new SQLite file of the same revision,
which ``nerd review serve`` can open as it is, or which can be loaded back.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy import func, select, text

from nerd.atomic import OutputError, new_file_mode
from nerd.review.schema import upgrade
from nerd.review.store import ReviewStore
from nerd.review.tables import Base, DecisionRow, ItemRow, UserRow

# Tables in the order their foreign keys need.
TABLES = ["project", "items", "decisions", "current", "leases", "users"]


def back_up(db: str | Path, file: Path) -> dict[str, int]:
    """Copy the review ``db`` to ``file`` (which must not exist); returns what the copy holds.

    Raises:
        ReviewStoreError: the source cannot be read; OutputError: ``file`` exists or cannot be written.
    """
    source = ReviewStore(db)
    source.project()  # a review database of this nerd's revision, or a clear error
    file = Path(file)
    if file.exists():
        raise OutputError(f"{file}: already exists; a backup never overwrites")
    handle, temporary = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent or ".")
    os.close(handle)
    try:
        if source.database.path is not None:
            _sqlite_copy(source.database.path, Path(temporary))
        else:
            _snapshot_copy(source, Path(temporary))
        os.chmod(temporary, new_file_mode())
        os.link(temporary, file)  # fails if the name was taken meanwhile
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    copy = ReviewStore(file)
    with copy.database.reading() as session:
        counts = {
            "items": session.scalar(select(func.count()).select_from(ItemRow)) or 0,
            "decisions": session.scalar(select(func.count()).select_from(DecisionRow)) or 0,
            "users": session.scalar(select(func.count()).select_from(UserRow)) or 0,
        }
    copy.close()
    return counts


def _sqlite_copy(path: Path, target: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(target)
        with destination:
            source.backup(destination)
        # One file, no WAL beside it: the copy travels alone.
        destination.execute("PRAGMA journal_mode=DELETE")
        destination.close()
    finally:
        source.close()


def _snapshot_copy(source: ReviewStore, target: Path) -> None:
    target.unlink()
    copy = ReviewStore(target, create=True)
    upgrade(copy.database)
    with source.database.reader.connect() as reading, copy.database.writer.begin() as writing:
        reading.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        for name in TABLES:
            table = Base.metadata.tables[name]
            rows = [dict(row._mapping) for row in reading.execute(select(table))]
            if rows:
                writing.execute(table.insert(), rows)
    copy.close()
