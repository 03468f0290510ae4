"""SQLite full-text search: FTS5 prefix indexes for prefixes of 3 to 8 characters.

The last word typed is a prefix (``support.review.search.Terms``). Without a prefix index
FTS5 merges the doclists of every word with that prefix before it yields the first row,
however few rows the search wants: at a million cases ``phone*`` took 70 ms against 3 ms for
``phone``. With ``prefix='3 4 5 6 7 8'`` a prefix of 3 to 8 characters (``PREFIX_MIN`` is
3) is one doclist, read newest first like a word; a longer one matches few words. It costs
room: the seeded 1M file grew from 2.37 to 3.25 GB.

FTS5 cannot add the option to a table: the three tables of ``search_1`` are dropped, made
again with the same columns, content tables and tokenizer, and rebuilt from their content.
Their triggers belong to the content tables and name the FTS5 tables, so they keep working.
PostgreSQL needs nothing (a ``:*`` lexeme reads the GIN index's sorted keys).

Revision ID: search_3
Revises: replied_1
"""
from alembic import op

revision = "search_3"
down_revision = "replied_1"
branch_labels = None
depends_on = None

#: FTS5 table -> (content table, indexed columns), as search_1 made them
SQLITE_INDEXES = {
    "case_search": ("case", ["number", "claimant_name", "contact_email", "imei1", "imei2"]),
    "message_search": ("message", ["body"]),
    "evidence_search": ("evidence", ["read_text"]),
}


def _remake(prefix: str) -> None:
    for index, (table, columns) in SQLITE_INDEXES.items():
        op.execute(f"DROP TABLE {index}")
        op.execute(f"CREATE VIRTUAL TABLE {index} USING fts5({', '.join(columns)}, content='{table}', "
                   f"content_rowid='id', tokenize='unicode61 remove_diacritics 2'{prefix})")
        op.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _remake(", prefix='3 4 5 6 7 8'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _remake("")
