"""/track: the same answer for every wrong guess, the claimant's session, reply, files, reopen."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from intake_samples import SVG, jpeg, outbox
from sqlmodel import select

from support import cases, db
from support.extensions import limiter
from support.models import Case, CaseStatus, Evidence, Role, utcnow


def _status(app, number: str) -> CaseStatus:
    with app.app_context(), db.transaction(app) as session:
        return cases.get_by_number(session, number).status


def _sign_in(client, case, token):
    response = client.post("/track", data={"number": case.number, "token": token})
    assert response.status_code == 303 and response.location.endswith("/track/case")


def test_a_wrong_token_and_an_unknown_number_get_the_same_answer(client, make_case):
    case, token = make_case()
    wrong_token = client.post("/track", data={"number": case.number, "token": "guess"})
    unknown = client.post("/track", data={"number": "RD-2026-999999", "token": token})
    assert wrong_token.status_code == unknown.status_code == 404
    strip = lambda page: page.replace(case.number, "").replace("RD-2026-999999", "")  # noqa: E731
    assert strip(wrong_token.text) == strip(unknown.text)
    assert "could not find a case" in wrong_token.text
    assert client.get("/track/case").status_code == 302  # still nobody


def test_the_emailed_link_opens_the_case_and_drops_the_token_from_the_address(client, make_case):
    case, token = make_case(kind=cases.CaseKind.locked_account)
    response = client.get(f"/track/{case.number}?t={token}")
    assert response.status_code == 303 and response.location == "/track/case"
    page = client.get("/track/case").text
    assert case.number in page and "waiting for a member of our team" in page
    assert "We expect to answer by" in page
    assert client.get(f"/track/{case.number}?t=wrong").status_code == 404


def test_reply_on_a_waiting_case_goes_back_to_review_and_tells_the_assignee(app, client, make_case, make_agent):
    agent = make_agent(Role.agent, email="assignee@example.test")
    case, token = make_case(status=CaseStatus.waiting_on_claimant)
    with app.app_context(), db.transaction(app) as session:
        stored = session.get(Case, case.id)
        stored.assignee_id = agent.id
        cases.add_message(session, stored, body="Please send a clearer photo of the box.",
                          actor=cases.audit.Actor("agent", str(agent.id), agent.name))
    _sign_in(client, case, token)
    assert "clearer photo of the box" in client.get("/track/case").text

    assert client.post("/track/case/reply", data={"body": "   "}).status_code == 422
    response = client.post("/track/case/reply", data={"body": "Here it is, sorry!"}, follow_redirects=True)
    assert response.status_code == 200 and "Here it is, sorry!" in response.text
    assert _status(app, case.number) == CaseStatus.in_review
    [notice] = [mail for mail in outbox(app) if mail["To"] == "assignee@example.test"]
    assert case.number in notice["Subject"] and "replied" in notice.get_content()


def test_added_evidence_shows_as_thumbnails_only_to_this_browser(app, client, make_case):
    case, token = make_case(status=CaseStatus.waiting_on_claimant)
    _sign_in(client, case, token)
    response = client.post("/track/case/evidence", data={
        "kind": "box_photo",
        "evidence": [(io.BytesIO(jpeg()), "box.jpg"), (io.BytesIO(SVG), "evil.svg")],
    }, content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "evil.svg" in response.text and "1 file(s) added" in response.text
    assert _status(app, case.number) == CaseStatus.in_review
    with app.app_context(), db.transaction(app) as session:
        [item] = session.exec(select(Evidence).where(Evidence.case_id == case.id)).all()
    url = f"/track/case/evidence/{item.id}/thumbnail"
    assert url in response.text
    thumbnail = client.get(url)
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert thumbnail.headers["X-Content-Type-Options"] == "nosniff"
    assert app.test_client().get(url).status_code == 302  # another browser is sent to /track

    other, other_token = make_case()
    _sign_in(client, other, other_token)
    assert client.get(url).status_code == 404  # evidence of another case


def test_a_closed_case_can_be_reopened_within_the_window_only(app, client, make_case):
    case, token = make_case(status=CaseStatus.closed)
    _sign_in(client, case, token)
    page = client.get("/track/case").text
    assert "Reopen this case" in page and 'action="/track/case/reply"' not in page
    assert client.post("/track/case/reopen", follow_redirects=True).status_code == 200
    assert _status(app, case.number) == CaseStatus.new

    late, late_token = make_case(status=CaseStatus.closed)
    with app.app_context(), db.transaction(app) as session:
        stored = session.get(Case, late.id)
        stored.closed_at = utcnow() - timedelta(days=app.config["REOPEN_WINDOW_DAYS"] + 1)
    _sign_in(client, late, late_token)
    assert "Reopen this case" not in client.get("/track/case").text
    assert client.post("/track/case/reopen").status_code == 422
    assert _status(app, late.number) == CaseStatus.closed


def test_leaving_forgets_the_case_in_this_browser(client, make_case):
    case, token = make_case()
    _sign_in(client, case, token)
    client.post("/track/leave")
    assert client.get("/track/case").status_code == 302


@pytest.fixture
def limits_on(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


def test_wrong_token_guesses_are_limited_per_case_and_per_ip(limits_on, app, make_case):
    limiter.reset()
    case, token = make_case()
    guesser = app.test_client()
    answers = [guesser.post("/track", data={"number": case.number, "token": f"guess-{n}"},
                            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code for n in range(11)]
    assert answers[:10] == [404] * 10 and answers[10] == 429  # per case number, across addresses
    blocked = guesser.post("/track", data={"number": case.number, "token": "guess-11"})
    assert blocked.status_code == 429 and "Too many attempts" in blocked.text
    assert int(blocked.headers["Retry-After"]) > 0

    limiter.reset()
    answers = [guesser.post("/track", data={"number": f"RD-2026-{n:06d}", "token": "x"}).status_code
               for n in range(11)]
    assert answers[-1] == 429  # per address, across case numbers
    limiter.reset()


def test_the_right_token_opens_the_case_after_thirty_wrong_guesses_from_elsewhere(limits_on, app, make_case):
    limiter.reset()
    case, token = make_case()
    attacker = app.test_client()
    answers = {attacker.post("/track", data={"number": case.number, "token": f"guess-{n}"},
                             environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code for n in range(30)}
    assert 429 in answers  # the case is over its limit for wrong guesses
    claimant = app.test_client()
    assert claimant.post("/track", data={"number": case.number, "token": token}).status_code == 303
    assert claimant.get("/track/case").status_code == 200
    emailed = app.test_client().get(f"/track/{case.number}?t={token}")  # the emailed link too
    assert emailed.status_code == 303 and emailed.location == "/track/case"
    assert attacker.get(f"/track/{case.number}?t=guess").status_code == 429
    limiter.reset()


def test_filing_is_rate_limited_per_contact_email(limits_on, app, recover):
    limiter.reset()
    statuses = [recover("locked_account", contact_email="same@example.test").status_code for _ in range(4)]
    assert statuses == [303, 303, 303, 429]
    assert recover("locked_account", contact_email="other@example.test").status_code == 303
    limiter.reset()


@pytest.mark.parametrize("upload", ["/track/case/evidence", "/track/case/checklist"])
def test_upload_posts_need_the_cases_session_and_the_form_token(app, client, make_case, upload):
    case, token = make_case(status=CaseStatus.waiting_on_claimant)
    files = lambda: {"kind": "box_photo", "evidence": [(io.BytesIO(jpeg()), "box.jpg")],  # noqa: E731
                     "item-1": [(io.BytesIO(jpeg()), "box.jpg")]}
    stranger = client.post(upload, data=files(), content_type="multipart/form-data")
    assert stranger.status_code in (302, 303) and stranger.location.endswith("/track")

    _sign_in(client, case, token)
    app.config["WTF_CSRF_ENABLED"] = True
    stale = client.post(upload, data=files(), content_type="multipart/form-data", follow_redirects=True)
    assert "Your session expired" in stale.text
    with app.app_context(), db.transaction(app) as session:
        assert session.exec(select(Evidence).where(Evidence.case_id == case.id)).all() == []
