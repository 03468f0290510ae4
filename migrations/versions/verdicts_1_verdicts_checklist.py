"""A verdict per evidence file, and requests for information as a checklist of items.

Revision ID: verdicts_1
Revises: admin_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "verdicts_1"
down_revision = "admin_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, no foreign keys: on SQLite a batch copy of ``evidence`` would drop the
    # old table, and its ON DELETE CASCADE would empty picture_hash_chunk
    for column in (sa.Column("verdict", sa.String(32), nullable=True),
                   sa.Column("verdict_reason", sa.String(32), nullable=True),
                   sa.Column("verdict_note", sa.Text(), nullable=True),
                   sa.Column("verdict_by_id", sa.Integer(), nullable=True),
                   sa.Column("verdict_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
                   sa.Column("replaced_by_id", sa.Integer(), nullable=True)):
        op.add_column("evidence", column)
    op.create_table(
        "requested_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id"), nullable=False),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("message.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("evidence_kind", sa.String(32), nullable=True),
        sa.Column("evidence_id", sa.Integer(), sa.ForeignKey("evidence.id"), nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answer_evidence_id", sa.Integer(), sa.ForeignKey("evidence.id"), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_requested_item_case_id", "requested_item", ["case_id"])
    op.create_index("ix_requested_item_message_id", "requested_item", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_requested_item_message_id", table_name="requested_item")
    op.drop_index("ix_requested_item_case_id", table_name="requested_item")
    op.drop_table("requested_item")
    for column in ("replaced_by_id", "verdict_at", "verdict_by_id", "verdict_note", "verdict_reason", "verdict"):
        op.drop_column("evidence", column)  # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), no table copy
