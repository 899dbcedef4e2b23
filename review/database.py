"""Connections to a review database: SQLite (one file, WAL, fsynced commits) or PostgreSQL.

Reads and writes go through separate engines. On SQLite a write takes the lock at its start
(``BEGIN IMMEDIATE``), so reading the queue and leasing an item is one step no other writer can cut
into; on PostgreSQL the queue takes an advisory lock for the same. A path is opened as
an existing file unless asked to create it, so a mistyped path makes no empty database. Before a write
is acknowledged the file is checked to be the one opened (device and inode): a database deleted or
replaced while serving refuses writes instead of taking decisions into a file no one will see again.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Row, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from nerd.review.errors import (
    DatabaseReplaced,
    DatabaseUnreachable,
    NoDatabase,
    NotAReviewDatabase,
    ReviewStoreError,
)

# psycopg's wait for a server that does not answer, in seconds.
CONNECT_TIMEOUT_S = 5
# Connections kept open to PostgreSQL, per engine. SQLAlchemy's default (5, and 10 more made and closed
# again as needed) makes a team of more than five open a new connection on most requests: 5-20 ms each,
# the whole tail of the latencies in bench/review.py. A request holds one connection at a time, and
# starlette's thread pool runs at most 40 requests at once.
POOL_SIZE = 20
POOL_OVERFLOW = 20

# One lock per SQLite file for the writers of this process. SQLite lets one writer in at a time anyway;
# without this the others wait in its busy handler, which sleeps in growing steps (up to 100 ms each)
# and made a decision's p99 over a second with 8 reviewers. A lock queues them without the sleeps.
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _write_lock(path: Path) -> threading.Lock:
    key = str(path.absolute())
    with _LOCKS_LOCK:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


def database_url(db: str | Path) -> str:
    """A SQLAlchemy URL: given as one, or a file path for SQLite.

    >>> database_url("review.db")
    'sqlite:///review.db'
    >>> database_url("postgresql://host/db")
    'postgresql+psycopg://host/db'
    """
    text = str(db)
    if text.startswith("postgresql://"):
        return "postgresql+psycopg://" + text.removeprefix("postgresql://")
    if "://" in text:
        return text
    return f"sqlite:///{text}"


def sqlite_path(db: str | Path) -> Path | None:
    """The file of a SQLite database, None for a server's URL."""
    text = str(db)
    if "://" not in text:
        return Path(text)
    if text.startswith("sqlite:///"):
        return Path(text.removeprefix("sqlite:///"))
    return None


def _sqlite_pragmas(connection: Any, _: Any, synchronous: str = "FULL") -> None:
    # Transactions are begun by the engine's "begin" hook below, not by the driver's guesswork.
    connection.isolation_level = None
    cursor = connection.cursor()
    # WAL: readers never block the writer; FULL: a committed decision is on disk before it is answered.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_engine(path: Path, *, create: bool, begin: str, durable: bool = True) -> Engine:
    # mode=rw: SQLite opens an existing file only (a URI filename; rwc creates it).
    uri = f"file:{quote(str(path.absolute()))}?mode={'rwc' if create else 'rw'}"
    engine = create_engine(f"sqlite:///{uri}&uri=true", connect_args={"check_same_thread": False})
    synchronous = "FULL" if durable else "NORMAL"
    event.listen(
        engine, "connect", lambda connection, record: _sqlite_pragmas(connection, record, synchronous)
    )
    event.listen(engine, "begin", lambda connection: connection.exec_driver_sql(begin))
    return engine


def _reason(error: SQLAlchemyError) -> str:
    orig = getattr(error, "orig", None)
    return str(orig if orig is not None else error).strip().splitlines()[0]


class Database:
    """The engines of one review database and sessions whose errors are one clear line each."""

    def __init__(self, db: str | Path, *, create: bool = False) -> None:
        self.url = database_url(db)
        self.path = sqlite_path(db)
        self.where = str(db) if self.path is not None else self.url.split("@")[-1]
        self._identity: tuple[int, int] | None = None
        if self.path is not None:
            if not create and not self.path.is_file():
                raise NoDatabase(f"{self.path}: no review database there (nerd review init makes one)")
            self.reader = _sqlite_engine(self.path, create=create, begin="BEGIN")
            self.writer = _sqlite_engine(self.path, create=create, begin="BEGIN IMMEDIATE")
            # Leases only: a lease lost in a crash costs nothing (the item is served again), so its
            # commit does not wait for the disk (WAL, synchronous=NORMAL); a decision's always does.
            self.lease_writer = _sqlite_engine(
                self.path, create=create, begin="BEGIN IMMEDIATE", durable=False
            )
            self._lock: threading.Lock | contextlib.nullcontext[None] = _write_lock(self.path)
            self.single_reader = self.reader
            return
        self._lock = contextlib.nullcontext()
        try:
            self.reader = create_engine(
                self.url,
                pool_pre_ping=True,
                pool_size=POOL_SIZE,
                max_overflow=POOL_OVERFLOW,
                connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
            )
            # Leases as on SQLite: their connections commit without waiting for the WAL to reach the
            # disk (set once per connection, not a statement per lease).
            self.lease_writer = create_engine(
                self.url,
                pool_pre_ping=True,
                pool_size=POOL_SIZE,
                max_overflow=POOL_OVERFLOW,
                connect_args={
                    "connect_timeout": CONNECT_TIMEOUT_S,
                    "options": "-c synchronous_commit=off",
                },
            )
        except (SQLAlchemyError, ImportError, ValueError) as error:
            raise ReviewStoreError(f"{self.where}: cannot open the database: {error}") from None
        self.writer = self.reader
        # A read of one statement needs no transaction: on PostgreSQL autocommit saves its BEGIN and
        # ROLLBACK, two of its three round trips (SQLite's are calls within the process).
        self.single_reader = self.reader.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def dialect(self) -> str:
        return self.reader.dialect.name

    def remember_file(self) -> None:
        """Take the file now open as the one every later write must still find."""
        if self.path is not None and self.path.exists():
            stat = os.stat(self.path)
            self._identity = (stat.st_dev, stat.st_ino)

    def check_file(self) -> None:
        """Raises DatabaseReplaced when the file was deleted or replaced since :meth:`remember_file`."""
        if self._identity is None or self.path is None:
            return
        try:
            stat = os.stat(self.path)
        except OSError:
            raise DatabaseReplaced(
                f"{self.path}: the database file was deleted while serving; nothing more is recorded "
                "(restore it, or restart on the right file)"
            ) from None
        if (stat.st_dev, stat.st_ino) != self._identity:
            raise DatabaseReplaced(
                f"{self.path}: the database file was replaced while serving; nothing more is recorded "
                "(restart to serve the new file)"
            )

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        with self.errors(), Session(self.reader) as session:
            yield session

    def read_one(self, statement: Executable, parameters: dict[str, Any]) -> Row[Any] | None:
        """The first row of one read-only statement (what every key's sign-in and progress ask)."""
        with self.errors(), self.single_reader.connect() as connection:
            return connection.execute(statement, parameters).first()

    @contextlib.contextmanager
    def writing(self, *, durable: bool = True) -> Iterator[Session]:
        """One transaction, committed when the block ends (after the file check), rolled back on error.
        ``durable=False`` (leases): the commit does not wait for the disk."""
        engine = self.writer if durable else self.lease_writer
        with self._lock, self.errors(), Session(engine) as session:
            yield session
            session.flush()
            self.check_file()
            session.commit()

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as error:
            reason = _reason(error)
            lowered = reason.lower()
            if any(
                word in lowered
                for word in (
                    "connection refused",
                    "could not connect",
                    "timeout expired",
                    "connection failed",
                    "name or service",
                )
            ):
                raise DatabaseUnreachable(
                    f"{self.where}: the database server does not answer ({reason})"
                ) from None
            if "locked" in lowered:
                reason += " (another process holds a write lock; try again, or stop it)"
            if "no such table" in lowered:
                raise NotAReviewDatabase(
                    f"{self.where}: not a review database ({reason}): make one with nerd review init"
                ) from None
            raise ReviewStoreError(f"{self.where}: {reason}") from None
        except DatabaseError as error:
            raise NotAReviewDatabase(
                f"{self.where}: not a usable review database ({_reason(error)})"
            ) from None

    def dispose(self) -> None:
        for engine in {self.reader, self.writer, self.lease_writer}:
            engine.dispose()
