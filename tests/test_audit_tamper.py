"""Someone with database access cannot rewrite the audit trail: no REPLACE or UPSERT over
an event on SQLite, and on PostgreSQL the app's own role may only read and append."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from support import audit, db

ACTOR = audit.Actor("cli", None, "tests")
SIGNING_KEY = "11" * 32


def append(app, count):
    for number in range(count):
        with db.transaction(app) as session:
            audit.record(session, actor=ACTOR, action="test.event", after={"n": number})


def event(connection, seq):
    return connection.execute(text("SELECT action, hash FROM audit_event WHERE seq = :seq"), {"seq": seq}).one()


REWRITES = {
    "audit_event": [
        "INSERT OR REPLACE INTO audit_event (seq, at, actor_type, action, canonical, prev_hash, hash) "
        "SELECT seq, at, actor_type, 'forged', canonical, prev_hash, hash FROM audit_event WHERE seq = 1",
        "REPLACE INTO audit_event (seq, at, actor_type, action, canonical, prev_hash, hash) "
        "SELECT seq, at, actor_type, 'forged', canonical, prev_hash, hash FROM audit_event WHERE seq = 1",
        "INSERT INTO audit_event (seq, at, actor_type, action, canonical, prev_hash, hash) "
        "SELECT seq, at, actor_type, action, canonical, prev_hash, hash FROM audit_event WHERE seq = 1 "
        "ON CONFLICT (seq) DO UPDATE SET action = 'forged'",
    ],
    "audit_checkpoint": [
        "INSERT OR REPLACE INTO audit_checkpoint (id, seq, head_hash, at, signature, public_key) "
        "SELECT id, seq, 'forged', at, signature, public_key FROM audit_checkpoint WHERE id = 1",
        "INSERT INTO audit_checkpoint (id, seq, head_hash, at, signature, public_key) "
        "SELECT id, seq, head_hash, at, signature, public_key FROM audit_checkpoint WHERE id = 1 "
        "ON CONFLICT (id) DO UPDATE SET head_hash = 'forged'",
    ],
}


@pytest.mark.parametrize("statement", [sql for table in REWRITES.values() for sql in table])
def test_replace_and_upsert_cannot_rewrite_a_row(app, owner_engine, statement):
    if owner_engine.dialect.name == "postgresql" and "ON CONFLICT" not in statement:
        pytest.skip("REPLACE is SQLite's")
    append(app, 2)
    with db.transaction(app) as session:
        audit.checkpoint(session, audit.load_signing_key({"RD_ENV": "testing", "AUDIT_SIGNING_KEY": SIGNING_KEY}, ""))
    snapshot = "SELECT * FROM audit_event ORDER BY seq", "SELECT * FROM audit_checkpoint ORDER BY id"
    with owner_engine.connect() as connection:
        before = [connection.execute(text(query)).all() for query in snapshot]
    with pytest.raises(DBAPIError, match="append-only"):
        with owner_engine.begin() as connection:
            connection.execute(text(statement))
    with owner_engine.connect() as connection:
        assert [connection.execute(text(query)).all() for query in snapshot] == before


ROLE_REFUSED = [
    "UPDATE audit_event SET reason = 'rewritten' WHERE seq = 1",
    "DELETE FROM audit_event WHERE seq = 1",
    "TRUNCATE audit_event",
    "UPDATE audit_checkpoint SET head_hash = 'forged'",
    "DELETE FROM audit_checkpoint",
    "SET session_replication_role = replica",
    "DROP TRIGGER audit_event_append_only ON audit_event",
    "ALTER TABLE audit_event DISABLE TRIGGER ALL",
    "UPDATE alembic_version SET version_num = 'forged'",
]


@pytest.mark.parametrize("statement", ROLE_REFUSED)
def test_the_app_role_cannot_change_the_audit_trail(app, statement):
    if db.engine(app).dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    append(app, 2)
    with db.transaction(app) as session:
        audit.checkpoint(session, audit.load_signing_key({"RD_ENV": "testing", "AUDIT_SIGNING_KEY": SIGNING_KEY}, ""))
    with pytest.raises(DBAPIError, match="permission denied|must be owner"):
        with db.engine(app).begin() as connection:
            connection.execute(text(statement))
    with db.engine(app).connect() as connection:
        assert event(connection, 1).action == "test.event"
        assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar() >= 2


def test_the_app_role_still_runs_the_desk(app, client, login):
    """Grants cover every other table: as its own role the app signs an agent in and reads the queue."""
    if db.engine(app).dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    with db.engine(app).connect() as connection:
        assert connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar() is False
    login()
    assert client.get("/queue").status_code == 200
