"""Queue as agents expect: claimant and model sort indexes, saved views, case presence.

The claimant-name and device-model columns sort by keyset over (column, id) like the
other sorts, so each has an index for the open queue, per status and for every case;
the model sorts as ``coalesce(model, '')`` (expression indexes on both databases).
``saved_queue_view`` keeps an agent's named views; ``case_presence`` the heartbeats of
agents with a case page open (the "someone else is viewing this case" indicator).

Revision ID: queue_1
Revises: claimant_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "queue_1"
down_revision = "claimant_1"
branch_labels = None
depends_on = None

OPEN = "status IN ('new', 'in_review', 'waiting_on_claimant', 'approved')"
MODEL = "coalesce(model, '')"
INDEXES = [
    ("ix_case_open_name", ["claimant_name", "id"], True),
    ("ix_case_status_name", ["status", "claimant_name", "id"], False),
    ("ix_case_name", ["claimant_name", "id"], False),
    ("ix_case_open_model", [sa.text(MODEL), "id"], True),
    ("ix_case_status_model", ["status", sa.text(MODEL), "id"], False),
    ("ix_case_model", [sa.text(MODEL), "id"], False),
]


def upgrade() -> None:
    for name, columns, open_only in INDEXES:
        where = sa.text(OPEN) if open_only else None
        op.create_index(name, "case", columns, sqlite_where=where, postgresql_where=where)
    op.create_table(
        "saved_queue_view",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agent.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("query", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("agent_id", "name"),
    )
    op.create_index("ix_saved_queue_view_agent_id", "saved_queue_view", ["agent_id"])
    op.create_table(
        "case_presence",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agent.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("writing", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table("case_presence")
    op.drop_index("ix_saved_queue_view_agent_id", table_name="saved_queue_view")
    op.drop_table("saved_queue_view")
    for name, _columns, _open in reversed(INDEXES):
        op.drop_index(name, table_name="case")
