"""/privacy/erasure: only a data-protection officer, with CSRF, a reason, a confirmation and a
one-time code; a replay erases nothing more; an open case needs the override, which cancels
its pending force-unbind in the same transaction."""
from __future__ import annotations

import pytest
from erasure_scan import case_row
from sqlmodel import select

from support import actions, cases, db, personal
from support.audit import SYSTEM
from support.models import Action, ActionKind, ActionStatus, Agent, AuditEvent, CaseKind, CaseStatus, Role, utcnow
from support.stepup import SteppedUp


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context(), db.transaction(app) as session:
        return personal.reveal(session, list(session.exec(  # with the personal values they stand for
            select(AuditEvent).where(AuditEvent.action == action))))


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor, Role.admin, Role.auditor])
def test_no_other_role_may_see_or_erase(app, client, login, make_case, role):
    case, _token = make_case(status=CaseStatus.closed)
    login(role)
    assert client.get("/privacy/erasure").status_code == 403
    assert client.post("/privacy/erasure", data={"q": case.contact_email}).status_code == 403
    assert client.post(f"/privacy/erasure/{case.number}", data={"reason": "x", "confirm": "yes",
                                                                "code": "123456"}).status_code == 403
    assert case_row(app, case.number).erased_at is None


def test_a_claimant_or_anyone_signed_out_cannot_trigger_it(app, make_case):
    case, token = make_case(status=CaseStatus.closed)
    claimant = app.test_client()
    assert claimant.post("/track", data={"number": case.number, "token": token}).status_code == 303
    response = claimant.post(f"/privacy/erasure/{case.number}", data={"reason": "me", "confirm": "yes", "code": "1"})
    assert response.status_code == 302 and "/agent/sign-in" in response.location
    api = claimant.post(f"/privacy/erasure/{case.number}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 302
    assert case_row(app, case.number).erased_at is None


def test_the_form_needs_its_csrf_token(app, app_config, make_case, officer):
    case, _token = make_case(status=CaseStatus.closed)
    dpo = officer()
    app.config["WTF_CSRF_ENABLED"] = True
    response = dpo.client.post(f"/privacy/erasure/{case.number}", data={"reason": "DPO-1", "confirm": "yes",
                                                                         "code": dpo.code()})
    assert response.status_code == 400
    assert case_row(app, case.number).erased_at is None
    page = dpo.client.get(f"/privacy/erasure?q={case.number}")
    assert 'name="csrf_token"' in page.text


def test_find_by_email_phone_or_number_then_erase_once(app, make_case, officer):
    case, _token = make_case(status=CaseStatus.closed, hint_phone="+39 333 123 4567",
                             contact_email="Found.Me@Example.test")
    other, _ = make_case(status=CaseStatus.closed, contact_email="someone.else@example.test")
    dpo = officer()
    for query in ("found.me@example.test", "+393331234567", "333 123 4567", case.number.lower()):
        page = dpo.client.post("/privacy/erasure", data={"q": query})
        assert page.status_code == 200 and case.number in page.text and other.number not in page.text, query
    assert "No case matches" in dpo.client.post("/privacy/erasure", data={"q": "nobody@example.test"}).text

    assert dpo.erase(case.number).status_code == 303
    page = dpo.client.get(f"/privacy/erasure?q={case.number}")
    assert "personal data of this case was erased" in page.text and "Found.Me" not in page.text
    replay = dpo.erase(case.number)
    assert replay.status_code == 303
    assert "already erased" in dpo.client.get(replay.location).text
    erased = _events(app, "case.erased")
    assert len(erased) == 1 and erased[0].actor_id == str(dpo.agent.id) and erased[0].reason == "DPO-2026-17"
    assert case_row(app, other.number).erased_at is None


@pytest.mark.parametrize("form, words", [
    ({"code": "000000"}, "code is wrong"),
    ({"reason": "  "}, "request or ticket"),
    ({"confirm": ""}, "cannot be undone"),
])
def test_a_refused_erasure_erases_nothing_and_says_why(app, make_case, officer, form, words):
    case, _token = make_case(status=CaseStatus.closed)
    dpo = officer()
    response = dpo.erase(case.number, **form)
    assert response.status_code == 303
    assert words in dpo.client.get(response.location).text
    assert case_row(app, case.number).erased_at is None and case_row(app, case.number).claimant_name
    assert not _events(app, "case.erased")


def test_a_wrong_code_is_kept_in_the_audit_trail(app, make_case, officer):
    case, _token = make_case(status=CaseStatus.closed)
    officer().erase(case.number, code="000000")
    refused = _events(app, "refused.bad_code")
    assert len(refused) == 1 and refused[0].subject_id == case.number


def _pending_unbind(app, make_agent, make_account, make_device) -> tuple[str, int]:
    agent = make_agent(Role.agent)
    account = make_account(email="owner@vendor.test")
    device = make_device(account=account)
    with app.app_context(), db.transaction(app) as session:
        case, _token = cases.file_case(session, claim=cases.Claim(
            kind=CaseKind.device_unbind, claimant_name="Open Claimant", contact_email="open@example.test",
            language="en", imei1=device.imei1, hint_email=account.email), config=app.config)
        cases.confirm_contact(session, case)
        for status in (CaseStatus.in_review, CaseStatus.approved):
            cases.transition(session, case, status, actor=SYSTEM)
        outcome = actions.request(session, case, requester=session.get(Agent, agent.id),
                                  step_up=SteppedUp(agent.id, utcnow()), config=app.config)
        assert outcome.action.kind == ActionKind.force_unbind
        return case.number, outcome.action.id


def test_an_open_case_needs_the_override_which_cancels_its_pending_unbind(app, runner, make_agent, make_account,
                                                                        make_device, officer):
    number, action_id = _pending_unbind(app, make_agent, make_account, make_device)
    dpo = officer()
    refused = dpo.erase(number)
    assert "not closed" in dpo.client.get(refused.location).text
    assert case_row(app, number).erased_at is None

    assert dpo.erase(number, open_too=True).status_code == 303
    case = case_row(app, number)
    assert case.erased_at is not None and case.status == CaseStatus.closed
    with app.app_context(), db.transaction(app) as session:
        assert session.get(Action, action_id).status == ActionStatus.cancelled
    assert [event.subject_id for event in _events(app, "action.cancelled")] == [str(action_id)]
    with app.app_context():
        assert actions.run_due(utcnow()) == []  # nothing left to execute
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_the_command_line_erases_too(app, runner, make_case):
    case, _token = make_case(status=CaseStatus.in_review)
    refused = runner.invoke(args=["erasure", "erase", case.number, "--reason", "DPO-9", "--yes"])
    assert refused.exit_code == 1 and "close it first" in refused.output
    found = runner.invoke(args=["erasure", "find", case.contact_email])
    assert case.number in found.output
    done = runner.invoke(args=["erasure", "erase", case.number, "--reason", "DPO-9", "--yes", "--open-too"])
    assert done.exit_code == 0 and '"erased": true' in done.output, done.output
    again = runner.invoke(args=["erasure", "erase", case.number, "--reason", "DPO-9", "--yes", "--open-too"])
    assert again.exit_code == 0 and '"already_erased": true' in again.output
    assert len(_events(app, "case.erased")) == 1


def test_the_page_and_the_notice_speak_russian_and_italian(app, make_case, officer):
    case, token = make_case(status=CaseStatus.closed)
    dpo = officer()
    assert "Cancellazione dei dati" in dpo.client.get(f"/privacy/erasure?q={case.number}&lang=it").text
    page = dpo.client.get(f"/privacy/erasure?q={case.number}&lang=ru").text
    assert "Удаление данных" in page and "Удалить персональные данные" in page
    dpo.erase(case.number)
    assert "sono stati cancellati" in dpo.client.get(f"/privacy/erasure?q={case.number}&lang=it").text
    claimant = app.test_client()
    claimant.get(f"/track/{case.number}?t={token}&lang=ru")
    assert "Персональные данные этого обращения удалены" in claimant.get("/track/case?lang=ru").text
