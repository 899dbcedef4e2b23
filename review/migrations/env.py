"""Alembic's environment for the review database: always run from nerd (``nerd.review.schema``),
which hands over an open connection; there is no alembic.ini."""

from alembic import context

connection = context.config.attributes["connection"]
# Batch mode: SQLite alters a table by copying it, which Alembic does for us where needed.
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
