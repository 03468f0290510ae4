"""Full-text search over claimant details, messages and receipt text, kept by the database.

``evidence.read_text`` keeps what the analysis read from a receipt (its PDF text layer or
Tesseract's reading); receipts analysed before this revision get it from the PDF text the
worker already kept (``extracted["text"]``), pictures at their next ``flask evidence
analyse --all``.

PostgreSQL: a stored generated ``search_vector`` on ``case`` (claimant name A, contact email
B, number and IMEIs C), ``message`` (body) and ``evidence`` (read text), each with a GIN
index. SQLite: FTS5 tables ``case_search``, ``message_search`` and ``evidence_search`` over
the same columns (external content, so the text is not stored twice), kept by triggers.
Either way an updated, blanked or deleted text leaves the index in the same statement.

Both read text the same way: lower case, every run of characters that are not letters or
digits is a word break (an email is the words of its parts), Latin accents folded (``perché``
is ``perche``), Cyrillic kept as written (``й`` and ``ё`` are letters of their own). The
``'simple'`` configuration: no stemming, no stop words, so Russian, Italian and English
names and words are found as written. The fold list below is ``support.review.search.FOLD_FROM``
as of this revision.

Revision ID: search_1
Revises: verdicts_1
"""
from alembic import op
import sqlalchemy as sa

revision = "search_1"
down_revision = "verdicts_1"
branch_labels = None
depends_on = None

FOLD_FROM = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżž"
FOLD_TO = "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzz"


def _words(column: str) -> str:
    """``column`` as the words the index holds (PostgreSQL)."""
    return (f"to_tsvector('simple', translate(regexp_replace(lower(coalesce({column}, '')), '[^[:alnum:]]+', ' ', 'g'), "
            f"'{FOLD_FROM}', '{FOLD_TO}'))")


#: the case's number and IMEIs, one text (``number`` is NULL until the case's first flush)
IDENTIFIERS = "coalesce(number, '') || ' ' || imei1 || ' ' || coalesce(imei2, '')"
POSTGRES_VECTORS = {
    "case": (f"setweight({_words('claimant_name')}, 'A') || setweight({_words('contact_email')}, 'B') || "
             f"setweight({_words(IDENTIFIERS)}, 'C')"),
    "message": _words("body"),
    "evidence": _words("read_text"),
}

#: SQLite: FTS5 table -> (content table, indexed columns)
SQLITE_INDEXES = {
    "case_search": ("case", ["number", "claimant_name", "contact_email", "imei1", "imei2"]),
    "message_search": ("message", ["body"]),
    "evidence_search": ("evidence", ["read_text"]),
}


def upgrade() -> None:
    op.add_column("evidence", sa.Column("read_text", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("UPDATE evidence SET read_text = coalesce(extracted::json ->> 'text', '') "
                   "WHERE kind = 'receipt' AND media_type = 'application/pdf'")
        for table, vector in POSTGRES_VECTORS.items():
            op.execute(f'ALTER TABLE "{table}" ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({vector}) STORED')
            op.execute(f'CREATE INDEX ix_{table}_search ON "{table}" USING gin (search_vector)')
        return
    op.execute("UPDATE evidence SET read_text = coalesce(json_extract(extracted, '$.text'), '') "
               "WHERE kind = 'receipt' AND media_type = 'application/pdf'")
    for index, (table, columns) in SQLITE_INDEXES.items():
        names = ", ".join(columns)
        new = ", ".join(f"new.{column}" for column in columns)
        old = ", ".join(f"old.{column}" for column in columns)
        forget = f"INSERT INTO {index}({index}, rowid, {names}) VALUES ('delete', old.id, {old});"
        learn = f"INSERT INTO {index}(rowid, {names}) VALUES (new.id, {new});"
        op.execute(f"CREATE VIRTUAL TABLE {index} USING fts5({names}, content='{table}', content_rowid='id', "
                   "tokenize='unicode61 remove_diacritics 2')")
        op.execute(f'CREATE TRIGGER {index}_insert AFTER INSERT ON "{table}" BEGIN {learn} END')
        op.execute(f'CREATE TRIGGER {index}_delete AFTER DELETE ON "{table}" BEGIN {forget} END')
        op.execute(f'CREATE TRIGGER {index}_update AFTER UPDATE OF {names} ON "{table}" BEGIN {forget} {learn} END')
        op.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in POSTGRES_VECTORS:
            op.execute(f'DROP INDEX ix_{table}_search')
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN search_vector')
    else:
        for index in SQLITE_INDEXES:
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {index}_{trigger}")
            op.execute(f"DROP TABLE {index}")
    op.drop_column("evidence", "read_text")
