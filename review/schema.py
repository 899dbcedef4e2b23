"""The review database's schema version, and bringing it up to date with Alembic.

Migrations live in ``migrations/versions`` and ship in the wheel. A database made before migrations
existed (format_version 1, nerd up to 722a394) has no ``alembic_version`` table: it is taken to be at
revision 0001, which is exactly that schema.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from nerd.review.database import Database
from nerd.review.errors import NotAReviewDatabase, OutdatedDatabase

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0002"
# The tables of the first revision: a database with other tables and none of these is another program's.
FIRST_TABLES = {"project", "items", "decisions"}


def _config(connection: Connection) -> Config:
    # Alembic is imported late: only init and upgrade need it.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def revision_of(connection: Connection) -> str | None:
    """The database's revision: None for an empty database.

    Raises:
        NotAReviewDatabase: tables that are not a review database's.
    """
    tables = set(inspect(connection).get_table_names())
    if not tables:
        return None
    if "alembic_version" in tables:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if found is not None:
            return str(found)
    if tables >= FIRST_TABLES:
        return "0001"
    raise NotAReviewDatabase(
        f"it holds tables ({', '.join(sorted(tables)[:5])}) but no review: another program's database"
    )


def refuse_foreign_file(path: Path) -> None:
    """Before anything opens ``path`` for writing (even a pragma writes to a SQLite file's header):
    refuse a file that is not SQLite, or another program's SQLite database.

    Raises:
        NotAReviewDatabase: naming the file and what it holds.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        connection = sqlite3.connect(f"file:{path.absolute()}?mode=ro", uri=True)
        try:
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise NotAReviewDatabase(
            f"{path}: not a review database ({error}); nothing was written to it"
        ) from None
    if tables and not tables >= FIRST_TABLES:
        raise NotAReviewDatabase(
            f"{path}: another program's database (tables {', '.join(sorted(tables)[:5])}); nothing was "
            "written to it: give a new file"
        )


def upgrade(database: Database) -> tuple[str | None, str]:
    """Bring the database to the newest revision (creating it when empty). Returns (before, after).

    Raises:
        NotAReviewDatabase: another program's database; nothing is written to it.
    """
    from alembic import command

    with database.errors(), database.writer.connect() as connection:
        sqlite = database.dialect == "sqlite"
        if sqlite:
            # Alembic's batch mode copies a table to alter it; foreign keys would refuse the copy. The
            # pragma works outside a transaction only, so it goes to the driver before one begins.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                try:
                    before = revision_of(connection)
                except NotAReviewDatabase as error:
                    raise NotAReviewDatabase(f"{database.where}: {error}") from None
                if before == HEAD:
                    return before, HEAD
                config = _config(connection)
                if before == "0001":
                    command.stamp(config, "0001")
                command.upgrade(config, "head")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    return before, HEAD


def check_current(database: Database) -> None:
    """Raises OutdatedDatabase (or NotAReviewDatabase) unless the database is at the newest revision."""
    with database.errors(), database.reader.connect() as connection:
        try:
            found = revision_of(connection)
        except NotAReviewDatabase as error:
            raise NotAReviewDatabase(f"{database.where}: {error}") from None
    if found is None:
        raise NotAReviewDatabase(f"{database.where}: an empty database: make a review with nerd review init")
    if found != HEAD:
        raise OutdatedDatabase(
            f"{database.where}: a review database of revision {found}, this nerd reads {HEAD}: "
            f"nerd review upgrade {database.where} brings it up to date (back it up first: "
            "nerd review backup)"
        )
