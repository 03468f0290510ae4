"""Objections: remembered on the case and the action, and an index for the flagged cases.

``case.objected_at`` outlives the flag (a supervisor clears the flag; the restriction on
requesting actions stays), ``action.objected_at`` makes a second objection a no-op, and
the partial index ``ix_case_flagged`` keeps the queue's "flagged" filter and the
supervisors' navigation count cheap at a million cases.

Revision ID: trust2_b_1
Revises: trust_b_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "trust2_b_1"
down_revision = "trust_b_1"
branch_labels = None
depends_on = None

FLAGGED = "flagged"


def upgrade() -> None:
    for table in ("case", "action"):
        op.add_column(table, sa.Column("objected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # before this revision an objection was the only flag there was, and the only such cancel reason
    op.execute('UPDATE "case" SET objected_at = updated_at WHERE flagged')
    op.execute("UPDATE action SET objected_at = cancelled_at "
               "WHERE cancel_reason = 'the account owner objected: this was not me'")
    where = sa.text(FLAGGED)
    op.create_index("ix_case_flagged", "case", ["status", "sla_due_at", "id"], sqlite_where=where,
                    postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_case_flagged", table_name="case")
    for table in ("action", "case"):  # a plain DROP COLUMN: a batch copy of "case" would lose its triggers
        op.drop_column(table, "objected_at")
