"""An objection is loud: banner, queue flag and filter, supervisors told, claimant told only "on hold",
and from then on only a supervisor, in writing, can request an action on the case.

Everything goes through the real pages and the real outbox, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from support import cases, personal
from support.audit import SYSTEM
from support.models import (Action, ActionStatus, Agent, AuditEvent, Case, CaseKind, CaseStatus, Message, Role)

PUBLIC_URL = "https://desk.example.test"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PUBLIC_URL": PUBLIC_URL}


def events(tx, name: str) -> list[AuditEvent]:
    with tx() as session:
        return personal.reveal(session, list(session.exec(  # with the personal values they stand for
            select(AuditEvent).where(AuditEvent.action == name).order_by(AuditEvent.seq))))


def actions_of(tx, case) -> list[Action]:
    with tx() as session:
        return list(session.exec(select(Action).where(Action.case_id == case.id).order_by(Action.id)))


def stored(tx, case) -> Case:
    with tx() as session:
        return session.get(Case, case.id)


def nav_count(page: str, label: str = "Flagged") -> str | None:
    found = re.search(rf'<nav class="main".*?>{label} <span class="count">(\d+)</span></a>', page, flags=re.S)
    return found and found.group(1)


@pytest.fixture
def objected(staff, approved_case, tx, outbox, client):
    """``objected(language="en") -> (case, account, requester, supervisor, objection_path)``.

    An agent requested the force-unbind, a supervisor approved it, the old owner pressed
    "this was not me" on the link mailed to them.
    """

    def make(language: str = "en"):
        requester, supervisor = staff(Role.agent), staff(Role.supervisor)
        case, account, _device = approved_case(CaseKind.device_unbind, language=language,
                                               contact_email="claimant@example.test")
        requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(), "next": "/"})
        action = actions_of(tx, case)[0]
        supervisor.client.post(f"/actions/{action.id}/approve", data={"code": supervisor.code(), "next": "/"})
        notice = next(body for kind, to, _s, body in outbox() if kind == "email" and to == account.email)
        path = "/object/" + notice.split("/object/")[1].split()[0]
        assert 'id="objection-done"' in client.post(path).text
        return case, account, requester, supervisor, path

    return make


def test_the_case_page_queue_and_approvals_show_the_flag(objected, staff, make_case, tx):
    case, _account, requester, supervisor, _path = objected()
    quiet, _token = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review)

    page = requester.client.get(f"/cases/{case.number}").text
    banner = re.search(r'<section class="flag-banner" id="flag-banner".*?</section>', page, flags=re.S).group(0)
    assert "objected to the action “Force-unbind device”" in banner and "only a supervisor can request" in banner.lower()
    assert 'id="clear-flag"' not in page  # an agent cannot clear it
    assert 'id="clear-flag"' in supervisor.client.get(f"/cases/{case.number}").text
    assert 'id="flag-banner"' not in requester.client.get(f"/cases/{quiet.number}").text

    everything = requester.client.get("/queue").text
    rows = dict(re.findall(r'<tr class="[^"]*" data-number="([^"]+)">(.*?)</tr>', everything, flags=re.S))
    assert 'class="badge flagged"' in rows[case.number] and 'class="badge flagged"' not in rows[quiet.number]
    only_flagged = requester.client.get("/queue?flagged=1").text
    assert f'data-number="{case.number}"' in only_flagged and f'data-number="{quiet.number}"' not in only_flagged

    approvals = supervisor.client.get("/approvals").text
    flagged_table = approvals.split('id="flagged"')[1]
    assert case.number in flagged_table and "objected to the action “Force-unbind device”" in flagged_table
    assert quiet.number not in flagged_table


def test_every_active_supervisor_is_emailed_with_the_case_link(objected, staff, make_agent, tx, outbox):
    """Each supervisor reads the notice in their own language (``Agent.language``)."""
    other_supervisor, admin, agent = staff(Role.supervisor), make_agent(Role.admin), make_agent(Role.agent)
    gone = make_agent(Role.supervisor)
    with tx() as session:
        session.get(Agent, gone.id).active = False
        session.get(Agent, other_supervisor.agent.id).language = "ru"
    case, _account, requester, supervisor, _path = objected()
    told = {to: (subject, body) for kind, to, subject, body in outbox()
            if subject and ("Objection on case" in subject or "Возражение по обращению" in subject)}
    assert sorted(told) == sorted([supervisor.agent.email, other_supervisor.agent.email])
    for subject, body in told.values():
        assert case.number in subject and f"{PUBLIC_URL}/cases/{case.number}" in body
    subject, body = told[supervisor.agent.email]
    assert "Objection on case" in subject and "objected to the action “Force-unbind device”" in body
    subject, body = told[other_supervisor.agent.email]
    assert subject.startswith("Возражение по обращению")
    assert "«Принудительно отвязать устройство»" in body and "Open the case" not in body
    recipients = {to for _kind, to, _s, _b in outbox()}
    assert not recipients & {gone.email, admin.email, agent.email, requester.agent.email}


def test_the_navigation_counts_flagged_open_cases_for_supervisors_only(objected, staff, make_agent, client):
    admin = staff(Role.admin)
    case, _account, requester, supervisor, _path = objected()
    assert nav_count(supervisor.client.get("/").text) == "1"
    assert nav_count(admin.client.get("/").text) == "1"
    assert 'href="/queue?flagged=1"' in supervisor.client.get("/").text
    agent_home = requester.client.get("/").text
    assert nav_count(agent_home) is None and "?flagged=1" not in agent_home


@pytest.mark.parametrize("language", ["en", "ru", "it"])
def test_the_claimant_is_told_on_hold_without_why(objected, tx, outbox, language):
    case, account, _requester, _supervisor, _path = objected(language)
    to_claimant = [(subject, body) for kind, to, subject, body in outbox() if to == "claimant@example.test"]
    assert len(to_claimant) == 1
    subject, body = to_claimant[0]
    words = {"en": ("on hold", "further look"), "ru": ("приостановлено", "дополнительно"),
             "it": ("in attesa", "ulteriore")}[language]
    assert words[0] in subject and words[1] in body and case.number in body
    assert f"{PUBLIC_URL}/track" in body
    with tx() as session:
        public = list(session.exec(select(Message).where(Message.case_id == case.id)))
    assert [message.body for message in public if message.author_type == SYSTEM.type][-1] in body
    for secret in ("object", "not me", "obiett", "возраж", "не я", account.email, account.phone, str(account.id),
                   "owner", "titolare", "владел"):
        assert secret.lower() not in (subject + body).lower()
        assert all(secret.lower() not in message.body.lower() for message in public)


def test_after_an_objection_only_a_supervisor_requests_with_a_reason(objected, staff, tx, app):
    case, _account, requester, supervisor, _path = objected()
    with tx() as session:  # an agent approved the case again after looking
        cases.transition(session, session.get(Case, case.id), CaseStatus.approved, actor=SYSTEM)

    panel = requester.client.get(f"/cases/{case.number}").text
    assert 'id="request-supervisor-only"' in panel and 'id="request-action"' not in panel
    refused = requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(1), "reason": "ok"})
    assert refused.status_code == 403 and "only a supervisor" in refused.text
    no_reason = supervisor.client.post(f"/cases/{case.number}/actions", data={"code": supervisor.code(1)})
    assert no_reason.status_code == 409 and "write why" in no_reason.text
    assert len(actions_of(tx, case)) == 1
    assert {event.action for event in events(tx, "refused.supervisor_required") + events(tx, "refused.reason_required")} \
        == {"refused.supervisor_required", "refused.reason_required"}

    supervisor.next_window()
    assert 'id="request-reason"' in supervisor.client.get(f"/cases/{case.number}").text
    reason = "Called the owner on the number in the directory: they sold the phone and forgot to unbind it."
    done = supervisor.client.post(f"/cases/{case.number}/actions",
                                  data={"code": supervisor.code(), "reason": reason, "next": f"/cases/{case.number}"})
    assert done.status_code == 302
    second = actions_of(tx, case)[-1]
    assert second.status == ActionStatus.pending_approval and second.requested_by_id == supervisor.agent.id
    requested = events(tx, "action.requested")[-1]
    assert requested.reason == reason and requested.subject_id == str(second.id)


def test_clearing_the_flag_is_for_supervisors_in_writing_and_approves_nothing(objected, staff, tx):
    case, _account, requester, supervisor, _path = objected()
    version = stored(tx, case).version
    by_agent = requester.client.post(f"/cases/{case.number}/flag/clear", data={"version": version, "reason": "fine"})
    assert by_agent.status_code == 403
    blank = supervisor.client.post(f"/cases/{case.number}/flag/clear", data={"version": version, "reason": "  "})
    assert blank.status_code == 422 and "Write why the flag can be cleared" in blank.text
    assert stored(tx, case).flagged and not events(tx, "case.flag_cleared")

    reason = "Owner reached by phone: the objection was about another device."
    cleared = supervisor.client.post(f"/cases/{case.number}/flag/clear", data={"version": version, "reason": reason},
                                     follow_redirects=True)
    assert "Nothing was approved by it" in cleared.text
    after = stored(tx, case)
    assert not after.flagged and after.status == CaseStatus.in_review and after.objected_at is not None
    assert [action.status for action in actions_of(tx, case)] == [ActionStatus.cancelled]
    event = events(tx, "case.flag_cleared")[0]
    assert (event.actor_type, event.actor_id, event.reason) == ("agent", str(supervisor.agent.id), reason)
    assert event.before["flagged"] is True and event.after == {"flagged": False}

    assert nav_count(supervisor.client.get("/").text) is None
    assert f'data-number="{case.number}"' not in supervisor.client.get("/queue?flagged=1").text
    assert case.number not in supervisor.client.get("/approvals").text.split('id="flagged-title"')[1]
    page = requester.client.get(f"/cases/{case.number}").text
    assert 'id="flag-banner"' not in page and 'id="objected-note"' in page
    with tx() as session:  # clearing lifts nothing: the agent still cannot request
        cases.transition(session, session.get(Case, case.id), CaseStatus.approved, actor=SYSTEM)
    again = requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(1), "reason": "now"})
    assert again.status_code == 403
    stale = supervisor.client.post(f"/cases/{case.number}/flag/clear", data={"version": version, "reason": reason})
    assert stale.status_code == 409 and len(events(tx, "case.flag_cleared")) == 1


def test_a_second_objection_changes_and_sends_nothing(objected, tx, outbox, client):
    case, _account, _requester, _supervisor, path = objected()
    sent, version = len(outbox()), stored(tx, case).version
    with tx() as session:
        messages = session.exec(select(func.count()).select_from(Message).where(Message.case_id == case.id)).one()
    again = client.post(path)
    assert again.status_code == 200 and "already cancelled" in again.text
    assert len(outbox()) == sent and stored(tx, case).version == version
    with tx() as session:
        assert session.exec(select(func.count()).select_from(Message).where(Message.case_id == case.id)).one() == messages
    assert len(events(tx, "case.flagged")) == 1 and len(events(tx, "action.cancelled")) == 1
    assert "already cancelled" in client.get(path).text


def test_an_objection_to_an_action_already_cancelled_still_counts_once(staff, approved_case, tx, outbox, client):
    requester, supervisor = staff(Role.agent), staff(Role.supervisor)
    case, account, _device = approved_case(CaseKind.device_unbind)
    requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(), "next": "/"})
    action = actions_of(tx, case)[0]
    supervisor.client.post(f"/actions/{action.id}/approve", data={"code": supervisor.code(), "next": "/"})
    requester.client.post(f"/actions/{action.id}/cancel", data={"reason": "claimant withdrew", "next": "/"})
    notice = next(body for kind, to, _s, body in outbox() if kind == "email" and to == account.email)
    path = "/object/" + notice.split("/object/")[1].split()[0]
    assert 'id="object"' in client.get(path).text
    assert 'id="objection-done"' in client.post(path).text
    after = stored(tx, case)
    assert after.flagged and after.objected_at is not None
    assert actions_of(tx, case)[0].cancel_reason == "claimant withdrew"
    sent = len(outbox())
    client.post(path)
    assert len(outbox()) == sent and len(events(tx, "case.flagged")) == 1


def test_the_objection_page_shows_nothing_of_the_case(objected, staff, approved_case, tx, outbox, client):
    requester, supervisor = staff(Role.agent), staff(Role.supervisor)
    case, account, device = approved_case(CaseKind.device_unbind, claimant_name="Ivan Thief",
                                          contact_email="thief@example.test")
    requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(), "next": "/"})
    action = actions_of(tx, case)[0]
    supervisor.client.post(f"/actions/{action.id}/approve", data={"code": supervisor.code(), "next": "/"})
    notice = next(body for kind, to, _s, body in outbox() if kind == "email" and to == account.email)
    path = "/object/" + notice.split("/object/")[1].split()[0]
    for page in (client.get(path).text, client.post(path).text, client.post(path).text, client.get(path).text):
        for private in (case.number, "Ivan Thief", "thief@example.test", device.imei1, str(account.id),
                        requester.agent.name, supervisor.agent.name):
            assert private not in page


def test_an_objection_after_execution_is_refused_and_flags_nothing(app, staff, approved_case, tx, outbox, client,
                                                                   runner):
    app.config["UNBIND_COOLING_OFF_HOURS"] = 0
    requester, supervisor = staff(Role.agent), staff(Role.supervisor)
    case, account, _device = approved_case(CaseKind.device_unbind)
    requester.client.post(f"/cases/{case.number}/actions", data={"code": requester.code(), "next": "/"})
    action = actions_of(tx, case)[0]
    supervisor.client.post(f"/actions/{action.id}/approve", data={"code": supervisor.code(), "next": "/"})
    assert "1 executed" in runner.invoke(args=["actions", "run-due"]).output
    notice = next(body for kind, to, _s, body in outbox() if kind == "email" and to == account.email)
    path = "/object/" + notice.split("/object/")[1].split()[0]
    sent = len(outbox())
    assert client.post(path).status_code == 409
    assert not stored(tx, case).flagged and len(outbox()) == sent
