"""Actions remember when each privileged step passed step-up (request, approval, execution).

``actions run-due`` executes an action only when its request (and its approval, if it
had one) passed step-up; before this, an unlock requested with a session cookie alone ran.

Revision ID: trust_e_1
Revises: mail_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "trust_e_1"
down_revision = "mail_1"
branch_labels = None
depends_on = None

COLUMNS = ("requested_with_step_up_at", "approved_with_step_up_at", "executed_with_step_up_at")


def upgrade() -> None:
    with op.batch_alter_table("action") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
