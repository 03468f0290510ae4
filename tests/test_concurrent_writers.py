"""Concurrent writers on PostgreSQL, as two app servers and a worker make them; each case here
was a 500 in the two-server load test (tests/load).

- The audit chain's lock is the first lock a writing transaction takes
  (support/lock_order.py): a status change used to lock its ``case_status_count`` row
  before its audit event took the chain's lock, and a transaction already holding the
  chain's lock that then changed a case of the same status waited for that row:
  "deadlock detected".
- A claimant's change applies to the case as it is (``get_by_number(for_update=True)``):
  a reply or a confirmation used to fail the case's version check when an agent or the
  worker had changed the case between the claimant's read and write.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from support import audit, cases, db, filing
from support.models import Case, CaseStatus, Role

ACTOR = audit.Actor("cli", None, "tests")


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time (BEGIN IMMEDIATE): no lock order to keep")


def _chain_locks_held(session) -> int:
    return session.exec(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                             "AND pid = pg_backend_pid() AND granted")).one()[0]


def test_a_write_takes_the_chain_lock_before_its_first_row_lock(postgres_only, app, make_case):
    case, _token = make_case(status=CaseStatus.new)
    with app.app_context(), db.transaction(app) as session:
        session.exec(select(Case).where(Case.id == case.id)).one()
        assert _chain_locks_held(session) == 0  # reading takes nothing
        row = session.get(Case, case.id)
        row.claimant_name = "Renamed"
        session.flush()
        assert _chain_locks_held(session) == 1
    with app.app_context(), db.transaction(app) as session:
        session.exec(select(Case).where(Case.id == case.id).with_for_update()).one()
        assert _chain_locks_held(session) == 1  # a row locked for update counts as a write


def test_two_transitions_crossing_on_the_status_counter_both_commit(postgres_only, app, make_case, database_url):
    """The load test's deadlock, step by step: A changes a status (the counter row), B appends an
    event and then changes a case of the same status, A appends its event. Both must commit."""
    first, _ = make_case(status=CaseStatus.new)
    second, _ = make_case(status=CaseStatus.new)
    watcher = create_engine(database_url, isolation_level="AUTOCOMMIT")
    outcome = {}

    def other_writer():
        try:
            with app.app_context(), db.transaction(app) as session:
                audit.record(session, actor=ACTOR, action="test.other_writer")
                cases.transition(session, session.get(Case, second.id), CaseStatus.in_review, actor=ACTOR)
            outcome["other"] = "committed"
        except Exception as error:  # noqa: BLE001 - the test reports what went wrong
            outcome["other"] = repr(error)

    try:
        with app.app_context(), db.transaction(app) as session:
            case = session.get(Case, first.id)
            case.status = CaseStatus.in_review  # the counter row is locked from here
            session.add(case)
            session.flush()
            other = threading.Thread(target=other_writer)
            other.start()
            _until(lambda: _someone_waits(watcher))
            audit.record(session, actor=ACTOR, action="case.transition", subject=("case", case.number))
        other.join(timeout=120)
        assert outcome == {"other": "committed"}
    finally:
        watcher.dispose()
    with app.app_context(), db.transaction(app) as session:
        assert {session.get(Case, first.id).status, session.get(Case, second.id).status} == {CaseStatus.in_review}
        assert audit.verify(session).ok


def _someone_waits(watcher) -> bool:
    """Whether another backend of this database waits for a lock."""
    with watcher.connect() as connection:
        return bool(connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                            "AND wait_event_type = 'Lock'")).scalar())


def _until(condition, polls: int = 2400) -> None:
    pause = threading.Event()
    for _poll in range(polls):
        if condition():
            return
        pause.wait(0.05)
    pytest.fail("the other writer neither finished nor waited for a lock")


def test_a_claimant_reply_applies_to_the_case_a_worker_changes_at_the_same_moment(postgres_only, app, make_case,
                                                                                  database_url):
    """The claimant's request reads the case, the worker changes it and commits, the claimant
    writes: the claimant's read locks the row, so the worker waits instead of making it stale."""
    case, _token = make_case(status=CaseStatus.new)
    watcher = create_engine(database_url, isolation_level="AUTOCOMMIT")
    outcome = {}

    def worker():
        try:
            with app.app_context(), db.transaction(app) as session:
                row = cases.get_by_number(session, case.number, for_update=True)
                row.risk_score = 42
                session.add(row)
            outcome["worker"] = "committed"
        except Exception as error:  # noqa: BLE001 - the test reports what went wrong
            outcome["worker"] = repr(error)

    try:
        with app.app_context(), db.transaction(app) as session:
            claimants_case = cases.get_by_number(session, case.number, for_update=True)
            other = threading.Thread(target=worker)
            other.start()
            _until(lambda: "worker" in outcome or _someone_waits(watcher))
            filing.claimant_reply(session, claimants_case, "Here is the receipt you asked for.")
        other.join(timeout=120)
        assert outcome == {"worker": "committed"}
    finally:
        watcher.dispose()
    with app.app_context(), db.transaction(app) as session:
        row = session.get(Case, case.id)
        assert row.risk_score == 42 and row.version >= case.version + 2
        assert audit.verify(session).ok


def test_an_error_after_a_failed_write_still_gets_the_site_s_error_page(postgres_only, app, client, login, make_case):
    """The second of two crossing writes fails its flush; its answer is the site's 500 page in
    the agent's language, not a bare "Internal Server Error" from a session left unusable."""
    case, _token = make_case(status=CaseStatus.new)

    @app.post("/test/stale-write")
    def stale_write():
        session = db.session()
        row = session.get(Case, case.id)
        with db.transaction(app) as other:  # someone else changes the case first
            other.get(Case, case.id).claimant_name = "Changed elsewhere"
        row.claimant_name = "Changed here"
        session.flush()  # the version check fails: StaleDataError
        return "unreachable"

    login(Role.agent)
    response = client.post("/test/stale-write")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
