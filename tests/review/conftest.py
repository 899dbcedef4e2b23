"""A review store on SQLite (a file per test) and, where a server answers, on PostgreSQL (the local
``test`` database, emptied around each test)."""

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")
pytest.importorskip("argon2")

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_or_skip():
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        return engine
    except (SQLAlchemyError, ImportError) as error:
        pytest.skip(f"no PostgreSQL answers at 127.0.0.1:5432 ({type(error).__name__})")


def empty_postgres(engine):
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A database URL or path for a new, empty review database."""
    if request.param == "sqlite":
        yield str(tmp_path / "review.db")
        return
    engine = postgres_or_skip()
    empty_postgres(engine)
    yield POSTGRES_URL
    empty_postgres(engine)
    engine.dispose()


@pytest.fixture
def postgres():
    engine = postgres_or_skip()
    empty_postgres(engine)
    yield POSTGRES_URL
    empty_postgres(engine)
    engine.dispose()
