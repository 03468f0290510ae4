"""Checkpoints the app takes by itself and witnesses outside the database: a chain cut
short, rolled back or rewritten past a witnessed head is caught, naming the first event."""
from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import text
from sqlmodel import select

from support import audit, db, witness
from support.models import AuditCheckpoint

ACTOR = audit.Actor("cli", None, "tests")


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "AUDIT_CHECKPOINT_EVERY": 3, "AUDIT_CHECKPOINT_MINUTES": 600,
            "AUDIT_WITNESS_FILE": str(tmp_path / "witness.log")}


def append(app, count):
    for number in range(count):
        with db.transaction(app) as session:
            audit.record(session, actor=ACTOR, action="test.event", after={"n": number})


def witnessed(app):
    with open(app.config["AUDIT_WITNESS_FILE"], encoding="utf-8") as lines:
        return witness.read(lines)


def checkpoints(app):
    with db.transaction(app) as session:
        return [signed.seq for signed in session.exec(select(AuditCheckpoint).order_by(AuditCheckpoint.id))]


def verify(runner, app):
    return runner.invoke(args=["audit", "verify", "--witness", app.config["AUDIT_WITNESS_FILE"]])


def forge(owner_engine, statements):
    """Play someone with full database access: drop the audit triggers, run ``statements``."""
    with owner_engine.begin() as connection:
        if owner_engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            connection.execute(text("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER"))
        else:
            for trigger in ("audit_event_no_update", "audit_event_no_delete",
                            "audit_checkpoint_no_update", "audit_checkpoint_no_delete"):
                connection.execute(text(f"DROP TRIGGER {trigger}"))
        for statement in statements:
            sql, values = statement if isinstance(statement, tuple) else (statement, {})
            connection.execute(text(sql), values)


def test_the_app_checkpoints_every_n_events_and_witnesses_each(app, caplog):
    caplog.set_level("INFO", logger="recovery_desk.audit.witness")
    append(app, 7)
    assert checkpoints(app) == [1, 4, 7]
    lines = witnessed(app)
    assert [line["seq"] for line in lines] == [1, 4, 7]
    assert [(line["first_seq"], len(line["hashes"])) for line in lines] == [(1, 1), (2, 3), (5, 3)]
    assert sum("audit checkpoint" in message for message in caplog.messages) == 3


def test_a_rolled_back_transaction_witnesses_nothing(app):
    with pytest.raises(RuntimeError):
        with db.transaction(app) as session:
            audit.record(session, actor=ACTOR, action="test.event")
            raise RuntimeError("the change failed")
    assert checkpoints(app) == []
    with pytest.raises(FileNotFoundError):
        witnessed(app)


def test_minutes_setting_checkpoints_every_transaction_when_zero(app_config):
    from support import create_app

    app = create_app({**app_config, "AUDIT_CHECKPOINT_EVERY": 1000, "AUDIT_CHECKPOINT_MINUTES": 0})
    append(app, 3)
    assert checkpoints(app) == [1, 2, 3]
    db.engine(app).dispose()


def test_intact_chain_verifies_against_its_witness(app, runner):
    append(app, 5)
    result = verify(runner, app)
    assert result.exit_code == 0, result.output


def test_newest_events_deleted_with_their_checkpoint_are_named(app, runner, owner_engine):
    append(app, 7)  # witnessed at 1, 4 and 7
    forge(owner_engine, ["DELETE FROM audit_checkpoint WHERE seq > 4", "DELETE FROM audit_event WHERE seq >= 6"])
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # the database alone looks intact
    result = verify(runner, app)
    assert result.exit_code == 1
    assert "BROKEN at sequence 6" in result.output and "missing" in result.output


def test_a_database_rolled_back_to_a_backup_is_caught(app, runner, owner_engine):
    append(app, 4)  # witnessed at 1 and 4
    forge(owner_engine, ["DELETE FROM audit_checkpoint WHERE seq > 1", "DELETE FROM audit_event WHERE seq > 2"])
    result = verify(runner, app)
    assert result.exit_code == 1 and "BROKEN at sequence 3" in result.output


def test_a_modified_event_is_named(app, runner, owner_engine):
    append(app, 6)
    forge(owner_engine, ["UPDATE audit_event SET reason = 'nothing happened' WHERE seq = 5"])
    result = verify(runner, app)
    assert result.exit_code == 1 and "BROKEN at sequence 5" in result.output


def test_a_rewrite_with_recomputed_hashes_names_the_first_changed_event(app, runner, owner_engine):
    append(app, 7)  # witnessed at 1, 4 and 7
    with owner_engine.connect() as connection:
        rows = connection.execute(text("SELECT seq, canonical, prev_hash FROM audit_event WHERE seq >= 5 "
                                       "ORDER BY seq")).all()
    statements, prev = ["DELETE FROM audit_checkpoint"], rows[0].prev_hash
    for seq, canonical, _ in rows:  # rewrite 5 onwards, every hash recomputed: the chain alone is sound
        fields = {**json.loads(canonical), "after": {"n": 99}}
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256((canonical + prev).encode()).hexdigest()
        statements.append(("UPDATE audit_event SET canonical = :c, after = :a, prev_hash = :p, hash = :h "
                           "WHERE seq = :s", {"c": canonical, "a": json.dumps({"n": 99}), "p": prev, "h": digest,
                                              "s": seq}))
        prev = digest
    forge(owner_engine, statements)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    result = verify(runner, app)
    assert result.exit_code == 1 and "BROKEN at sequence 5" in result.output


def test_a_forged_witness_line_is_refused(app, runner):
    append(app, 3)
    path = app.config["AUDIT_WITNESS_FILE"]
    lines = witnessed(app)
    lines[-1]["head_hash"] = "0" * 64
    with open(path, "w", encoding="utf-8") as rewritten:
        rewritten.writelines(json.dumps(line) + "\n" for line in lines)
    result = verify(runner, app)
    assert result.exit_code == 1 and "not signed" in result.output
