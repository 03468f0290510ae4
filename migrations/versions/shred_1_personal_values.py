"""Personal values out of the audit text: the ``personal_value`` table, and the tables of a
signed conversion of the chain (``audit_conversion``, ``audit_former_hash``), append-only.

Revision ID: shred_1
Revises: erasure_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "shred_1"
down_revision = "erasure_1"
branch_labels = None
depends_on = None

#: written once by the conversion migration, never changed
PROTECTED = ("audit_conversion", "audit_former_hash")


def upgrade() -> None:
    op.create_table(
        "personal_value",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("erased_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.UniqueConstraint("subject", "fingerprint", name="uq_personal_value_subject_fingerprint"),
    )
    op.create_index("ix_personal_value_subject", "personal_value", ["subject"])
    op.create_index("ix_personal_value_fingerprint", "personal_value", ["fingerprint"])
    op.create_table(
        "audit_conversion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("old_head_hash", sa.String(64), nullable=False),
        sa.Column("new_head_hash", sa.String(64), nullable=False),
        sa.Column("hashes_digest", sa.String(64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_former_hash",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("conversion_id", sa.Integer(), sa.ForeignKey("audit_conversion.id"), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    protect(PROTECTED)


def protect(tables) -> None:
    """The same append-only triggers as the audit tables (0001)."""
    if op.get_bind().dialect.name == "postgresql":
        for table in tables:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")
        return
    for table in tables:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: {verb} on {table} refused'); END")


def downgrade() -> None:
    for table in reversed(PROTECTED):
        op.drop_table(table)  # its triggers go with it
    op.drop_index("ix_personal_value_fingerprint", table_name="personal_value")
    op.drop_index("ix_personal_value_subject", table_name="personal_value")
    op.drop_table("personal_value")
