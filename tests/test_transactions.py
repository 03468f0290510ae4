"""Short write transactions: a request that only reads never takes SQLite's write lock,
a GET view that writes says so, and a report too large for a request says so (413)."""
from __future__ import annotations

import io
import sqlite3

import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from support import cases, db, evidence
from support.audit import Actor
from support.models import AuditEvent, Case, EvidenceKind, Role


def _sqlite_path(database_url: str) -> str:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's single write lock; PostgreSQL has none to hold")
    return make_url(database_url).database


def _write_lock_is_free(path: str) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


def test_a_get_request_reads_without_the_write_lock_and_a_post_takes_it(app, database_url, make_case):
    path = _sqlite_path(database_url)
    case, _ = make_case()
    with app.test_request_context(f"/cases/{case.number}"):
        assert cases.get_by_number(db.session(), case.number) is not None
        assert _write_lock_is_free(path), "a page being read leaves other writers free"
    with app.test_request_context(f"/cases/{case.number}/claim", method="POST"):
        assert cases.get_by_number(db.session(), case.number) is not None
        assert not _write_lock_is_free(path), "a request that writes queues for the lock at its first query"
        db.session().rollback()


def test_a_get_view_marked_as_writing_takes_the_write_lock(app, database_url, make_case):
    path = _sqlite_path(database_url)
    case, _ = make_case()
    with app.test_request_context(f"/cases/{case.number}/evidence/1/original"):
        assert cases.get_by_number(db.session(), case.number) is not None
        assert not _write_lock_is_free(path)
        db.session().rollback()


def test_a_get_view_that_writes_unmarked_is_stopped(app, make_case):
    case, _ = make_case()
    with app.test_request_context(f"/cases/{case.number}"):
        row = cases.get_by_number(db.session(), case.number)
        row.claimant_name = "Changed by a page view"
        with pytest.raises(RuntimeError, match="mark its view @db.writes"):
            db.session().flush()
        db.session().rollback()


def test_a_marked_get_view_writes(app, client, login, make_case):
    """The audited download of an original commits its audit event (its view is @db.writes)."""
    login(Role.agent)
    case, _ = make_case()
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(picture, "JPEG")
    with app.test_request_context(), db.transaction(app) as session:
        item = evidence.attach(session, case=session.get(Case, case.id), uploaded_by="claimant", config=app.config,
                               upload=evidence.Upload("a.jpg", picture.getvalue(), EvidenceKind.box_photo))
    assert client.get(f"/cases/{case.number}/evidence/{item.id}/original").status_code == 200
    with app.app_context(), db.transaction(app) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "evidence.original_downloaded")).one()


def test_a_report_too_large_for_a_request_answers_413_and_says_why(app, client, login, make_case):
    app.config.update(REPORT_MAX_EVIDENCE=120, REPORT_MAX_MESSAGES=2)
    login(Role.agent)
    case, _ = make_case()
    with app.app_context(), db.transaction(app) as session:
        row = session.get(Case, case.id)
        for number in range(3):
            cases.add_message(session, row, body=f"message {number}", actor=Actor("claimant", case.number, "Claimant"))
    response = client.get(f"/cases/{case.number}/report.pdf")

    assert response.status_code == 413
    assert f"Case {case.number} has 0 evidence items and 3 messages" in response.text
    assert "at most 120 items and 2 messages" in response.text
    with app.app_context(), db.transaction(app) as session:
        assert not session.exec(select(AuditEvent).where(AuditEvent.action == "report.generated")).all()



def test_postgresql_connections_run_without_jit(app):
    """The desk's statements are short: compiling one (JIT) took longer than running it."""
    with app.app_context(), db.transaction(app) as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("a PostgreSQL setting")
        assert session.execute(text("SHOW jit")).scalar() == "off"
