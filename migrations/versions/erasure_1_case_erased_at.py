"""When a case's personal data was erased (retention or a data-protection officer).

Revision ID: erasure_1
Revises: search_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "erasure_1"
down_revision = "search_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: a batch copy of ``case`` on SQLite would drop its triggers (status counts)
    op.add_column("case", sa.Column("erased_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_index("ix_case_erased_at", "case", ["erased_at"])


def downgrade() -> None:
    op.drop_index("ix_case_erased_at", table_name="case")
    op.drop_column("case", "erased_at")
