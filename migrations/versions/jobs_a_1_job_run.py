"""Background jobs: the history of each job (queued, running, failed with its error, done).

Revision ID: jobs_a_1
Revises: trust2_d_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "jobs_a_1"
down_revision = "trust2_d_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("periodic", sa.Boolean(), nullable=False),
        sa.Column("state", sa.Enum("queued", "running", "retrying", "failed", "done", "skipped",
                                   name="jobstate", native_enum=False, length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("queued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id"),
    )
    op.create_index("ix_job_run_state_queued", "job_run", ["state", "queued_at"])


def downgrade() -> None:
    op.drop_index("ix_job_run_state_queued", table_name="job_run")
    op.drop_table("job_run")
