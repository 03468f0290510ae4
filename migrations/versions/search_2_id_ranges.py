"""Full-text search at a million cases: BRIN indexes on the ids of the searched tables.

A search ranks the newest matches of each source. PostgreSQL asks for them in windows of
ids, newest first (``support.review.search``): the GIN index gives every row holding the
words, a BRIN index on ``id`` the pages of the window, and the two bitmaps ANDed leave only
the matching rows inside the window to read. BRIN suits these tables: rows are appended in
id order, the index is a few pages per million rows and costs an insert almost nothing;
``autosummarize`` summarizes the newest pages as they fill (until then they are read, which
a newest-first window does anyway). SQLite needs nothing: FTS5 walks its index by rowid.

Revision ID: search_2
Revises: queue10m_1
"""
from alembic import op

revision = "search_2"
down_revision = "queue10m_1"
branch_labels = None
depends_on = None

TABLES = {"case": "ix_case_id_brin", "message": "ix_message_id_brin", "evidence": "ix_evidence_id_brin"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, index in TABLES.items():
        op.execute(f'CREATE INDEX {index} ON "{table}" USING brin (id) WITH (autosummarize = on)')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in TABLES.values():
        op.execute(f"DROP INDEX {index}")
