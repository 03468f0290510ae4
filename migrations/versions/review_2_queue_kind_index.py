"""Review queue: an open-case index for the kind filter (kind, SLA due, id).

Without it the "kind" filter walks the open-case SLA index and skips the other kinds.

Revision ID: review_2
Revises: review_1
"""
from alembic import op
import sqlalchemy as sa

revision = "review_2"
down_revision = "review_1"
branch_labels = None
depends_on = None

OPEN = "status IN ('new', 'in_review', 'waiting_on_claimant', 'approved')"


def upgrade() -> None:
    where = sa.text(OPEN)
    op.create_index("ix_case_open_kind_sla", "case", ["kind", "sla_due_at", "id"],
                    sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_case_open_kind_sla", table_name="case")
