"""SQLite: refuse INSERT OR REPLACE and UPSERT over an existing audit row.

SQLite's REPLACE deletes the conflicting row without firing the DELETE trigger, so
``INSERT OR REPLACE INTO audit_event`` rewrote an event despite the append-only triggers.
A BEFORE INSERT trigger that aborts when the key is already taken refuses it (and refuses
``ON CONFLICT DO UPDATE``, which never reaches its update). PostgreSQL has no REPLACE; its
UPSERT fires the UPDATE trigger that 0001 installs, and the app role may not UPDATE.

Revision ID: audit_1
Revises: reports_1
"""
from alembic import op

revision = "audit_1"
down_revision = "reports_1"
branch_labels = None
depends_on = None

#: each append-only table and the key a rewrite would reuse
KEYS = {"audit_event": "seq", "audit_checkpoint": "id"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, key in KEYS.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {key} = NEW.{key}) "
            f"BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: replacing {table} {key} refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in KEYS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
