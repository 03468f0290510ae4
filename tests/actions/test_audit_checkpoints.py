"""``audit checkpoint`` and ``audit verify``: signed checkpoints catch a cut or rewritten chain."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import text

from support import audit, db


def append(app, count):
    for number in range(count):
        with db.transaction(app) as session:
            audit.record(session, actor=audit.Actor("cli", None, "tests"), action="test.event", after={"n": number})


def drop_triggers(connection):
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
    else:
        connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("DROP TRIGGER audit_event_no_delete"))


def test_checkpoint_then_verify(app, runner):
    assert "nothing to sign" in runner.invoke(args=["audit", "checkpoint"]).output
    append(app, 3)
    signed = runner.invoke(args=["audit", "checkpoint"])
    assert signed.exit_code == 0 and "checkpoint at sequence 3" in signed.output
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "intact: 3 events" in verified.output


def test_deleting_the_newest_rows_is_caught(app, runner, owner_engine):
    append(app, 4)
    runner.invoke(args=["audit", "checkpoint"])
    with owner_engine.begin() as connection:
        drop_triggers(connection)
        connection.execute(text("DELETE FROM audit_event WHERE seq >= 3"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "cut short" in result.output


def test_a_chain_rewritten_with_recomputed_hashes_is_caught(app, runner, owner_engine):
    append(app, 3)
    runner.invoke(args=["audit", "checkpoint"])
    with owner_engine.begin() as connection:
        drop_triggers(connection)
        rows = connection.execute(text("SELECT seq, canonical FROM audit_event ORDER BY seq")).all()
        # the forger rewrites every event and recomputes every hash: the chain alone looks intact
        prev = audit.GENESIS
        for seq, canonical in rows:
            fields = json.loads(canonical)
            fields["after"] = {"n": 99}
            canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            digest = hashlib.sha256((canonical + prev).encode()).hexdigest()
            connection.execute(text("UPDATE audit_event SET canonical = :c, after = :a, prev_hash = :p, hash = :h "
                                    "WHERE seq = :s"),
                               {"c": canonical, "a": json.dumps({"n": 99}), "p": prev, "h": digest, "s": seq})
            prev = digest
    with app.app_context(), db.transaction(app) as session:
        verdict = audit.verify(session)
    assert not verdict.ok and "differs from the checkpoint" in verdict.problem
    result = runner.invoke(args=["audit", "verify"])  # every event was rewritten: the app's first checkpoint catches it
    assert result.exit_code == 1 and "BROKEN at sequence 1" in result.output
