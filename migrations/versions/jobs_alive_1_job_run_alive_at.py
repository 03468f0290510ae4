"""Jobs: when a running job's worker last said it still runs it (``support/jobs/heartbeat.py``).

A running row whose worker stopped saying so for ``JOBS_LOST_SILENT_SECONDS`` is queued
again (``support/jobs/rescue.py``) instead of after ``JOBS_LOST_RUNNING_MINUTES``.

Revision ID: jobs_alive_1
Revises: search_3
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "jobs_alive_1"
down_revision = "search_3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_run", sa.Column("alive_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_run") as batch:
        batch.drop_column("alive_at")
