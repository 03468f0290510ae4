"""Evidence print copies: the JPEG a case report embeds, made once at upload.

Revision ID: reports_1
Revises: review_2
"""
from alembic import op
import sqlalchemy as sa

revision = "reports_1"
down_revision = "review_2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evidence", sa.Column("print_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("print_sha256")
