"""Evidence analysis: the values read from each file (``extracted_value``) and where the
analysis of each file stands (``evidence.analysis_status``, ``analysed_at``, ``is_screenshot``).

Evidence stored before keeps ``analysis_status`` NULL until ``flask evidence analyse`` reads it.

Revision ID: jobs_b_1
Revises: trust2_a_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "jobs_b_1"
down_revision = "trust2_a_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("analysis_status", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("analysed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("is_screenshot", sa.Boolean(), nullable=True))
    op.create_table(
        "extracted_value",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("evidence_id", sa.Integer(), sa.ForeignKey("evidence.id"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("box", sa.JSON(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("corrected_value", sa.String(length=255), nullable=True),
        sa.Column("corrected_by_id", sa.Integer(), sa.ForeignKey("agent.id"), nullable=True),
        sa.Column("corrected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_extracted_value_evidence_id", "extracted_value", ["evidence_id"])


def downgrade() -> None:
    op.drop_index("ix_extracted_value_evidence_id", table_name="extracted_value")
    op.drop_table("extracted_value")
    with op.batch_alter_table("evidence") as batch:
        for name in ("is_screenshot", "analysed_at", "analysis_status"):
            batch.drop_column(name)
