"""Outgoing mail queue: email and SMS rows written in the transaction that caused them.

Revision ID: mail_1
Revises: audit_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "mail_1"
down_revision = "audit_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outgoing_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.Enum("email", "sms", name="channel", native_enum=False, length=32), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("queued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sending_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outgoing_message_due", "outgoing_message", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outgoing_message_due", table_name="outgoing_message")
    op.drop_table("outgoing_message")
