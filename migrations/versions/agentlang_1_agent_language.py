"""Agents: a language for their pages and emails (en, ru, it).

Revision ID: agentlang_1
Revises: jobs_b_1
"""
from alembic import op
import sqlalchemy as sa

revision = "agentlang_1"
down_revision = "jobs_b_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agent", sa.Column("language", sa.String(length=8), nullable=False, server_default="en"))


def downgrade() -> None:
    with op.batch_alter_table("agent") as batch:
        batch.drop_column("language")
