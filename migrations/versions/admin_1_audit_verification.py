"""Audit verifications: the outcome of each verification of the chain, for the audit page.

Revision ID: admin_1
Revises: queue_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "admin_1"
down_revision = "queue_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_verification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("bad_seq", sa.BigInteger(), nullable=True),
        sa.Column("problem", sa.String(length=300), nullable=True),
        sa.Column("by", sa.String(length=20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_verification")
