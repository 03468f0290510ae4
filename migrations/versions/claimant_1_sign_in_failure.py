"""Wrong passwords for sign-in names without an account (``sign_in_failure``), counted like
an account's so the built-in sign-in page can say how many attempts remain without telling
which names exist.

Revision ID: claimant_1
Revises: agentlang_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "claimant_1"
down_revision = "agentlang_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("login_hash", sa.String(length=64), primary_key=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sign_in_failure")
