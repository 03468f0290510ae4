"""A refused request never commits, whatever it answers; what a refusal must keep is kept."""
from __future__ import annotations

import pytest
from flask import Blueprint, redirect
from sqlmodel import select

from support import audit, db
from support.models import AuditEvent
from support.refusals import Refused

from support.audit import Actor

TEST_ACTOR = Actor("cli", None, "tests")


def _events(app, action: str) -> int:
    with app.app_context(), db.transaction(app) as session:
        return len(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


@pytest.fixture
def refusing_app(app):
    """Views that write, then are refused in each way a view can answer."""
    bp = Blueprint("refusing", __name__)

    def _write(name: str) -> None:
        audit.record(db.session(), actor=TEST_ACTOR, action=f"test.{name}", subject=("test", 1))

    @bp.post("/t/raise")
    def raised():
        _write("raised")
        raise Refused("nope", "Not allowed.")

    @bp.post("/t/caught-redirect")
    def caught_redirect():
        _write("caught")
        try:
            raise Refused("nope", "Not allowed.")
        except Refused:
            db.refuse()
            return redirect("/", 303)

    @bp.post("/t/kept")
    def kept():
        _write("undone")
        db.keep_when_refused(lambda session: audit.record(session, actor=TEST_ACTOR, action="test.kept",
                                                          subject=("test", 1)))
        raise Refused("nope", "Not allowed.")

    @bp.post("/t/kept-but-done")
    def kept_but_done():
        _write("done")
        db.keep_when_refused(lambda session: audit.record(session, actor=TEST_ACTOR, action="test.kept",
                                                          subject=("test", 1)))
        return redirect("/", 303)

    app.register_blueprint(bp)
    return app


def test_a_refusal_sent_back_to_the_form_commits_nothing(refusing_app):
    client = refusing_app.test_client()
    response = client.post("/t/raise", data={"next": "/queue"})
    assert response.status_code == 303 and response.headers["Location"] == "/queue"
    assert _events(refusing_app, "test.raised") == 0


def test_a_refusal_without_a_page_to_return_to_is_its_status(refusing_app):
    response = refusing_app.test_client().post("/t/raise")
    assert response.status_code == 422 and "Not allowed." in response.text
    assert _events(refusing_app, "test.raised") == 0


def test_a_caught_refusal_that_redirects_commits_nothing(refusing_app):
    assert refusing_app.test_client().post("/t/caught-redirect").status_code == 303
    assert _events(refusing_app, "test.caught") == 0


def test_what_a_refusal_keeps_is_written_after_the_rollback(refusing_app):
    refusing_app.test_client().post("/t/kept")
    assert _events(refusing_app, "test.undone") == 0
    assert _events(refusing_app, "test.kept") == 1
    with refusing_app.app_context(), db.transaction(refusing_app) as session:
        assert audit.verify(session).ok


def test_a_request_that_succeeds_writes_no_kept_refusal(refusing_app):
    refusing_app.test_client().post("/t/kept-but-done")
    assert _events(refusing_app, "test.done") == 1
    assert _events(refusing_app, "test.kept") == 0


def test_api_refusals_are_json_with_their_status(refusing_app):
    bp = Blueprint("refusing_api", __name__, url_prefix="/api/v1/t")

    @bp.post("/refuse")
    def refuse():
        raise Refused("nope", "Not allowed.", "field_x")

    refusing_app.register_blueprint(bp)
    response = refusing_app.test_client().post("/api/v1/t/refuse")
    assert response.status_code == 422
    assert response.json == {"error": {"code": "nope", "message": "Not allowed.", "field": "field_x"}}
