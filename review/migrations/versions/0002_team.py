"""A review for a team: users, leases, each (item, reviewer)'s standing decision kept in a table,
open slots and conflicts on the item, client-made decision ids, settlements, the label definitions
and the key that signs session cookies.

The standing decisions are computed once here from the events (as 722a394 computed them on every
request). Two undos of one decision could both be recorded before (they raced): the later ones took
back nothing, so they keep their row and lose their ``undoes``, and undoes become unique.

Revision ID: 0002
"""

import secrets
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("definitions", sa.JSON, nullable=True))
        batch.add_column(sa.Column("session_key", sa.String(128), nullable=True))
        batch.add_column(sa.Column("open_items", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("item_total", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("open_slots", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("conflict", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("settlement_id", sa.Integer, nullable=True))
    # Partial indexes over the open items, in each queue order (the queue's next item is their first).
    open_ = {"sqlite_where": sa.text("open_slots > 0"), "postgresql_where": sa.text("open_slots > 0")}
    op.create_index("ix_items_open_position", "items", ["position"], **open_)
    op.create_index("ix_items_open_uncertainty", "items", [sa.text("uncertainty DESC"), "position"], **open_)
    op.create_index(
        "ix_items_open_disagreement",
        "items",
        [sa.text("disagreement DESC"), sa.text("uncertainty DESC"), "position"],
        **open_,
    )
    op.create_index("ix_items_conflict", "items", ["conflict"])
    _forget_repeated_undos()
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("client_id", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_decisions_client", ["reviewer", "client_id"])
        batch.create_unique_constraint("uq_decisions_undoes", ["undoes"])
    op.create_index("ix_decisions_item_reviewer", "decisions", ["item_id", "reviewer"])
    op.create_index("ix_decisions_reviewer_id", "decisions", ["reviewer", "id"])
    op.create_table(
        "current",
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("reviewer", sa.String(100), primary_key=True),
        sa.Column("decision_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
    )
    op.create_index("ix_current_reviewer_action", "current", ["reviewer", "action"])
    op.create_table(
        "leases",
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("reviewer", sa.String(100), primary_key=True, index=True),
        sa.Column("expires", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
    )
    _fill_standing_decisions()
    op.execute(
        sa.text(
            "UPDATE project SET open_items = (SELECT count(*) FROM items WHERE open_slots > 0), "
            "item_total = (SELECT count(*) FROM items)"
        )
    )
    op.execute(
        sa.text("UPDATE project SET session_key = :key, format_version = 2").bindparams(
            key=secrets.token_hex(32)
        )
    )


def _forget_repeated_undos() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, undoes FROM decisions WHERE undoes IS NOT NULL ORDER BY id")
    ).all()
    seen: set[int] = set()
    for decision_id, undoes in rows:
        if undoes in seen:
            connection.execute(
                sa.text("UPDATE decisions SET undoes = NULL WHERE id = :id").bindparams(id=decision_id)
            )
        seen.add(undoes)


def _fill_standing_decisions() -> None:
    connection = op.get_bind()
    events = connection.execute(
        sa.text("SELECT id, item_id, reviewer, action, spans, undoes FROM decisions ORDER BY id")
    ).all()
    undone = {row.undoes for row in events if row.action == "undo"}
    standing: dict[tuple[int, str], tuple[int, str, object]] = {}
    for row in events:
        if row.action != "undo" and row.id not in undone:
            standing[(row.item_id, row.reviewer)] = (row.id, row.action, row.spans)
    current = sa.table(
        "current", sa.column("item_id"), sa.column("reviewer"), sa.column("decision_id"), sa.column("action")
    )
    rows = [
        {"item_id": item, "reviewer": who, "decision_id": d, "action": action}
        for (item, who), (d, action, _) in standing.items()
    ]
    if rows:
        op.bulk_insert(current, rows)
    by_item: dict[int, list[tuple[str, object]]] = defaultdict(list)
    for (item, _), (_, action, spans) in standing.items():
        if action in ("accept", "reject"):
            by_item[item].append((action, spans))
    for item_id, overlap in connection.execute(sa.text("SELECT id, overlap FROM items")).all():
        decided = by_item.get(item_id, [])
        needed = 2 if overlap else 1
        versions = {(action, str(spans)) for action, spans in decided}
        connection.execute(
            sa.text("UPDATE items SET open_slots = :slots, conflict = :conflict WHERE id = :id").bindparams(
                slots=needed - len(decided), conflict=len(versions) > 1, id=item_id
            )
        )


def downgrade() -> None:
    raise NotImplementedError("a team's review database is not taken back to one reviewer's format")
