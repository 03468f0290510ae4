"""Move personal values out of every existing audit event, re-chain, and sign the conversion.

The events' text is rewritten as ``audit.record`` writes it now (``support/audit_conversion.py``):
values become keyed fingerprints and move to ``personal_value``, the hashes are recomputed,
each event's former hash is kept, and one signature binds the former chain to the new one.
The keys are the app's (``db.upgrade`` hands its configuration over); run as plain
``alembic``, AUDIT_PERSONAL_KEY and AUDIT_SIGNING_KEY come from the environment (a
development checkout falls back to the keys in instance/, as the app does).

Revision ID: shred_2
Revises: shred_1
"""
import os
from pathlib import Path

from alembic import context, op

from support import audit, audit_conversion, personal_data
from support.config import from_environment

revision = "shred_2"
down_revision = "shred_1"
branch_labels = None
depends_on = None


def _app_config() -> tuple[dict, str]:
    attributes = context.config.attributes
    if attributes.get("app_config") is not None:
        return attributes["app_config"], attributes["instance_path"]
    instance = os.environ.get("INSTANCE_PATH", str(Path(__file__).resolve().parents[2] / "instance"))
    return from_environment(instance), instance


def _lift_triggers(lift: bool) -> None:
    """The append-only triggers of audit_event (0001), off for the rewrite and back after it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE audit_event {'DISABLE' if lift else 'ENABLE'} TRIGGER audit_event_append_only")
        return
    if lift:
        op.execute("DROP TRIGGER audit_event_no_update")
    else:
        op.execute("CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                   "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: UPDATE on audit_event refused'); END")


def upgrade() -> None:
    connection = op.get_bind()
    if connection.exec_driver_sql("SELECT 1 FROM audit_event LIMIT 1").first() is None:
        return  # a new database: nothing to convert, nothing to sign
    config, instance = _app_config()
    personal_key = personal_data.load_key(config, instance)
    signing_key = audit.load_signing_key(config, instance)
    _lift_triggers(True)
    audit_conversion.convert(connection, personal_key=personal_key, signing_key=signing_key)
    _lift_triggers(False)


def downgrade() -> None:
    """The values cannot go back into the signed text: the conversion is kept."""
