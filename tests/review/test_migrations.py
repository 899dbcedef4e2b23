"""Schema migrations (Alembic): a database written by 722a394's nerd, with decisions in it, upgraded;
every decision is there after, and the export is what it was. The fixture was made by that commit's
store (tests/review/fixtures/review-722a394.sql, invented sentences) with its export beside it."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner

from nerd.cli.main import app
from nerd.review.errors import OutdatedDatabase
from nerd.review.exporting import export_reviewed
from nerd.review.schema import HEAD, MIGRATIONS, upgrade
from nerd.review.store import ReviewStore
from nerd.review.tables import Base
from tests.review.factories import made

FIXTURES = Path(__file__).with_name("fixtures")
runner = CliRunner()


def old_database(path):
    with sqlite3.connect(path) as connection:
        connection.executescript((FIXTURES / "review-722a394.sql").read_text())
    return path


def test_an_old_database_is_refused_with_the_command_that_upgrades_it(tmp_path):
    db = old_database(tmp_path / "old.db")
    with pytest.raises(OutdatedDatabase, match=r"revision 0001.*nerd review upgrade"):
        ReviewStore(db).labels()
    result = runner.invoke(app, ["review", "stats", str(db)])
    assert result.exit_code == 1 and "nerd review upgrade" in result.output


def test_an_upgraded_database_keeps_every_decision_and_exports_the_same(tmp_path):
    db = old_database(tmp_path / "old.db")
    with sqlite3.connect(db) as connection:
        before = connection.execute(
            "select id, item_id, reviewer, at, action, spans, undoes from decisions"
        ).fetchall()
    result = runner.invoke(app, ["review", "upgrade", str(db)])
    assert result.exit_code == 0 and f"from revision 0001 to {HEAD}" in result.output
    with sqlite3.connect(db) as connection:
        after = connection.execute(
            "select id, item_id, reviewer, at, action, spans, undoes from decisions"
        ).fetchall()
    assert after == before and len(after) == 11
    store = ReviewStore(db)
    counts = export_reviewed(store, conll=tmp_path / "new.conll", jsonl=tmp_path / "new.jsonl")
    assert (tmp_path / "new.conll").read_text() == (FIXTURES / "old-export.conll").read_text()
    assert (tmp_path / "new.jsonl").read_text() == (FIXTURES / "old-export.jsonl").read_text()
    assert (counts.exported, counts.conflicts) == (4, 1)
    # The standing decisions were computed once from the events: ben's undone MISC is not his answer.
    assert store.current(5, "ben").spans == [[2, 3, "PER"]]
    assert store.current(3, "anna").action == "skip"
    # and the queue reads them: what anna decided is not served to her again
    assert 1 not in store.queue("anna") and 4 not in store.queue("anna")
    assert (
        runner.invoke(app, ["review", "upgrade", str(db)])
        .output.strip()
        .endswith(f"up to date (revision {HEAD})")
    )


def schema_differences(url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return differences


# Indexes over expressions (a DESC column): Alembic cannot compare them with what it reflects, so they
# are checked by name instead.
EXPRESSION_INDEXES = {"ix_items_open_uncertainty", "ix_items_open_disagreement"}


def test_the_migrations_make_exactly_the_tables_the_code_declares(db):
    from sqlalchemy import inspect

    store = made(db)
    differences = [
        d
        for d in schema_differences(store.url)
        if not (d[0] in ("add_index", "remove_index") and d[1].name in EXPRESSION_INDEXES)
    ]
    assert differences == []
    engine = create_engine(store.url)
    names = {index["name"] for index in inspect(engine).get_indexes("items")}
    engine.dispose()
    assert names >= EXPRESSION_INDEXES | {"ix_items_open_position"}


def test_the_migrations_ship_inside_the_package():
    assert (MIGRATIONS / "env.py").is_file()
    assert sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py")) == ["0001_first.py", "0002_team.py"]


def test_two_undos_of_one_decision_recorded_before_the_fix_do_not_stop_the_upgrade(tmp_path):
    db = old_database(tmp_path / "old.db")
    with sqlite3.connect(db) as connection:
        connection.execute(
            "insert into decisions (item_id, reviewer, at, action, spans, suggested, undoes) "
            "values (5, 'ben', '2026-12-07T16:07:54.071+00:00', 'undo', 'null', 'null', 6)"
        )
    upgrade(ReviewStore(db).database)
    assert ReviewStore(db).current(5, "ben").spans == [[2, 3, "PER"]]
