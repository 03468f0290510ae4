"""Near-duplicate pictures: the 16-bit chunks of each picture's perceptual hash, indexed.

Backfills the chunks of every evidence row that has a hash (``near_duplicates.chunks``).

Revision ID: trust2_d_1
Revises: trust2_b_1
"""
from alembic import op
import sqlalchemy as sa

revision = "trust2_d_1"
down_revision = "trust2_b_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "picture_hash_chunk",
        sa.Column("evidence_id", sa.Integer(), sa.ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("chunk_no", sa.Integer(), primary_key=True),
        sa.Column("chunk_value", sa.Integer(), nullable=False),
    )
    op.create_index("ix_picture_hash_chunk_value", "picture_hash_chunk", ["chunk_no", "chunk_value"])
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, phash FROM evidence WHERE phash IS NOT NULL")).all()
    chunk = sa.table("picture_hash_chunk", sa.column("evidence_id"), sa.column("chunk_no"), sa.column("chunk_value"))
    values = [{"evidence_id": evidence_id, "chunk_no": number, "chunk_value": value}
              for evidence_id, phash in rows for number, value in _chunks(phash)]
    if values:
        op.bulk_insert(chunk, values)


def _chunks(phash: str) -> list[tuple[int, int]]:
    """A copy of ``near_duplicates.chunks`` as of this revision (migrations do not import app code)."""
    bits = int(phash, 16)
    return [(number, (bits >> (48 - 16 * number)) & 0xFFFF) for number in range(4)]


def downgrade() -> None:
    op.drop_index("ix_picture_hash_chunk_value", table_name="picture_hash_chunk")
    op.drop_table("picture_hash_chunk")
