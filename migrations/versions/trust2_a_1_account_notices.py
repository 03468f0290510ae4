"""Notices for every privileged action: the owner's language, the contacts a case found, "no one can be told".

``account.language`` (nullable) picks the language of notices to the owner;
``account_contact_record`` keeps the contacts an account had when a case about it was
filed, so a later notice reaches them even after a contact was replaced;
``action.no_contact_ack_by_id`` is the approver who acknowledged that nobody could be told.

Revision ID: trust2_a_1
Revises: jobs_a_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "trust2_a_1"
down_revision = "jobs_a_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("account", sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
    with op.batch_alter_table("action") as batch:
        batch.add_column(sa.Column("no_contact_ack_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_action_no_contact_ack_by_id_agent", "agent", ["no_contact_ack_by_id"], ["id"])
    op.create_table(
        "account_contact_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_contact_record_account", "account_contact_record", ["account_id", "recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_account_contact_record_account", table_name="account_contact_record")
    op.drop_table("account_contact_record")
    with op.batch_alter_table("action") as batch:
        batch.drop_constraint("fk_action_no_contact_ack_by_id_agent", type_="foreignkey")
        batch.drop_column("no_contact_ack_by_id")
    with op.batch_alter_table("account") as batch:
        batch.drop_column("language")
