"""The hash-chained audit trail: append, verify, triggers, concurrency."""
import multiprocessing

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from support import audit, create_app, db
from support.models import AuditEvent

ACTOR = audit.Actor("cli", None, "tests")


def append(app, count, **fields):
    for number in range(count):
        with db.transaction(app) as session:
            audit.record(session, actor=ACTOR, action="test.event", subject=("case", number),
                         after={"n": number, **fields})


def verify_cli(runner):
    return runner.invoke(args=["audit", "verify"])


def drop_triggers(connection, dialect):
    if dialect == "postgresql":
        connection.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
        connection.execute(text("DROP TRIGGER audit_event_no_truncate ON audit_event"))
    else:
        connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("DROP TRIGGER audit_event_no_delete"))


def test_chain_links_and_verifies(app, runner):
    append(app, 5, note="ünïcode ✓")
    with app.app_context(), db.transaction(app) as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [e.seq for e in events] == [1, 2, 3, 4, 5]
        assert events[0].prev_hash == audit.GENESIS
        assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:]))
    result = verify_cli(runner)
    assert result.exit_code == 0, result.output
    assert "5 events" in result.output


def test_event_rolls_back_with_its_change(app):
    with pytest.raises(RuntimeError):
        with db.transaction(app) as session:
            audit.record(session, actor=ACTOR, action="test.event")
            raise RuntimeError("the change failed")
    with db.transaction(app) as session:
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == 0


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET reason = 'rewritten' WHERE seq = 1",
    "DELETE FROM audit_event WHERE seq = 1",
])
def test_triggers_refuse_update_and_delete(app, statement, owner_engine):
    append(app, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        with owner_engine.begin() as connection:
            connection.execute(text(statement))


def test_truncate_refused_on_postgresql(app, owner_engine):
    if owner_engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    append(app, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        with owner_engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_event"))


def test_altered_row_is_named(app, runner, owner_engine):
    append(app, 8)
    with owner_engine.begin() as connection:
        drop_triggers(connection, owner_engine.dialect.name)
        connection.execute(text("UPDATE audit_event SET reason = 'nothing happened' WHERE seq = 5"))
    result = verify_cli(runner)
    assert result.exit_code == 1
    assert "sequence 5" in result.output


def test_altered_hashed_text_is_named(app, runner, owner_engine):
    append(app, 6)
    with owner_engine.begin() as connection:
        drop_triggers(connection, owner_engine.dialect.name)
        connection.execute(text("UPDATE audit_event SET canonical = replace(canonical, 'test.event', 'test.other') "
                                "WHERE seq = 3"))
    result = verify_cli(runner)
    assert result.exit_code == 1 and "sequence 3" in result.output


def test_removed_row_is_named(app, runner, owner_engine):
    append(app, 6)
    with owner_engine.begin() as connection:
        drop_triggers(connection, owner_engine.dialect.name)
        connection.execute(text("DELETE FROM audit_event WHERE seq = 4"))
    result = verify_cli(runner)
    assert result.exit_code == 1 and "sequence 4" in result.output


def test_inserted_row_is_named(app, runner, owner_engine):
    append(app, 4)
    with owner_engine.begin() as connection:
        drop_triggers(connection, owner_engine.dialect.name)
        # shift the tail up and forge an event at 3 that claims to follow 2
        for seq in (4, 3):
            connection.execute(text(f"UPDATE audit_event SET seq = {seq + 1} WHERE seq = {seq}"))
        connection.execute(text(
            "INSERT INTO audit_event (seq, at, actor_type, action, canonical, prev_hash, hash) "
            "VALUES (3, '2026-01-01 00:00:00', 'cli', 'forged', '{}', :prev, :hash)"),
            {"prev": "f" * 64, "hash": "e" * 64})
    result = verify_cli(runner)
    assert result.exit_code == 1 and "sequence 3" in result.output


def _append_in_process(database_url, instance, count):
    app = create_app({"RD_ENV": "testing", "SECRET_KEY": "x", "DATABASE_URL": database_url,
                      "INSTANCE_PATH": instance})
    append(app, count, pid=multiprocessing.current_process().name)


def test_four_processes_append_one_unbroken_chain(app, app_config, tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_in_process,
                               args=(app_config["DATABASE_URL"], str(tmp_path / "instance"), 500))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    with db.transaction(app) as session:
        verdict = audit.verify(session)
        assert verdict.ok and verdict.count == 2000
