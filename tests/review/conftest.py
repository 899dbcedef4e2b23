"""A review store on SQLite (a file per test) and, where a server answers, on PostgreSQL (the local
``test`` database, emptied around each test)."""

import pytest

pytest.importorskip("sqlalchemy")

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


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A database URL or path for a new, empty review database."""
    if request.param == "sqlite":
        yield str(tmp_path / "review.db")
        return
    from nerd.review.store import Base

    engine = postgres_or_skip()
    Base.metadata.drop_all(engine)
    yield POSTGRES_URL
    Base.metadata.drop_all(engine)
    engine.dispose()
