"""Agents: a session generation, raised to end every session of the agent at once.

Revision ID: trust_b_1
Revises: trust_e_1
"""
from alembic import op
import sqlalchemy as sa

revision = "trust_b_1"
down_revision = "trust_e_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agent", sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("agent") as batch:
        batch.drop_column("session_generation")
