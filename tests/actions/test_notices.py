"""Notices before every privileged action: who is told, in which language, and what an objection does.

Through the real pages (staff test clients with TOTP), the real outbox and both databases.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from support import notices, personal
from support.models import (Account, AccountContactRecord, AccountStatus, Action, ActionStatus, AuditEvent, Case,
                            CaseKind, CaseStatus, Device, Role, utcnow)


def flashes(response) -> str:
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', response.text))


def actions_of(tx, case) -> list[Action]:
    with tx() as session:
        return list(session.exec(select(Action).where(Action.case_id == case.id).order_by(Action.id)))


def objection_token(body: str) -> str:
    return re.search(r"/object/([\w-]+)", body).group(1)


def request_action(staff_member, case):
    page = f"/cases/{case.number}"
    return staff_member.client.post(f"/cases/{case.number}/actions", data={"code": staff_member.code(), "next": page},
                                    follow_redirects=True)


def approve(staff_member, action, steps_ahead=0, **form):
    page = "/approvals"
    return staff_member.client.post(f"/actions/{action.id}/approve",
                                    data={"code": staff_member.code(steps_ahead), "next": page, **form},
                                    follow_redirects=True)


def test_replace_contact_is_announced_in_the_owners_language_cools_off_and_can_be_objected_to(
        staff, approved_case, tx, outbox, client, app_config):
    requester, approver = staff(Role.agent), staff(Role.supervisor)
    case, account, _device = approved_case(CaseKind.lost_credentials, email="owner@example.test", phone="+7916123456",
                                           contact_email="newcomer@example.test")
    request_action(requester, case)
    [action] = actions_of(tx, case)
    assert action.status == ActionStatus.pending_approval and outbox() == []  # nobody is told of a mere request
    approved = approve(approver, action)
    assert "contacts were told" in flashes(approved)
    [action] = actions_of(tx, case)
    assert action.status == ActionStatus.scheduled
    assert timedelta(hours=71, minutes=59) < action.not_before - utcnow() <= timedelta(hours=72)

    sent = outbox()
    assert sorted((kind, to) for kind, to, _s, _b in sent) == [("email", "owner@example.test"), ("sms", account.phone)]
    email = next(item for item in sent if item[0] == "email")
    assert email[2] == "Резервный email вашего аккаунта может быть заменён"  # +7: Russian
    assert "получила запрос на замену резервного email" in email[3] and "newcomer" not in email[3]
    assert b"Content-Language: ru" in next(Path(app_config["MAIL_OUTBOX_DIR"]).glob("*.eml")).read_bytes()
    sms = next(item for item in sent if item[0] == "sms")
    assert "Отмените" in sms[3] and objection_token(sms[3]) == objection_token(email[3])

    early = requester.client.post(f"/actions/{action.id}/execute", data={"code": requester.code(1), "next": "/"},
                                  follow_redirects=True)
    assert "cooling-off ends" in flashes(early)
    with tx() as session:
        assert session.get(Account, account.id).email == "owner@example.test"

    link = f"/object/{objection_token(email[3])}"
    shown = client.get(link)
    assert shown.status_code == 200 and "Our support team received a request to change your account" in shown.text
    assert account.email not in shown.text and case.number not in shown.text  # the page tells nothing of the case
    assert actions_of(tx, case)[0].status == ActionStatus.scheduled  # opening the link changes nothing
    done = client.post(link, data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', shown.text).group(1)})
    assert done.status_code == 200 and 'id="objection-done"' in done.text
    with tx() as session:
        assert session.get(Action, action.id).status == ActionStatus.cancelled
        stored = session.get(Case, case.id)
        assert stored.flagged and stored.status == CaseStatus.in_review
        assert "recovery-contact change" in stored.flag_reason
        assert session.get(Account, account.id).email == "owner@example.test"


def test_a_forged_objection_link_changes_nothing(staff, approved_case, tx, outbox, client):
    requester, approver = staff(Role.agent), staff(Role.supervisor)
    case, _account, _device = approved_case(CaseKind.lost_credentials)
    request_action(requester, case)
    approve(approver, actions_of(tx, case)[0])
    assert client.get("/object/forged-token").status_code == 404
    assert client.post("/object/forged-token").status_code in (400, 404)
    assert actions_of(tx, case)[0].status == ActionStatus.scheduled


def test_replace_then_unbind_still_tells_the_original_email(app, staff, make_account, make_device, make_case, tx,
                                                           outbox):
    """The thief first replaces the recovery email, then asks for the unbind: the real owner hears of both."""
    app.config["CONTACT_COOLING_OFF_HOURS"] = 0  # testing allows it; the notice still goes first
    requester, approver = staff(Role.agent), staff(Role.supervisor)
    owner = make_account(email="real-owner@example.test", phone=None)
    device = make_device(account=owner)
    takeover, _token = make_case(kind=CaseKind.lost_credentials, status=CaseStatus.approved, imei1=device.imei1,
                                 hint_account_id=str(owner.id), hint_email=None, contact_email="thief@example.test")
    request_action(requester, takeover)
    [replace] = actions_of(tx, takeover)
    approve(approver, replace)
    executed = requester.client.post(f"/actions/{replace.id}/execute", data={"code": requester.code(1), "next": "/"},
                                     follow_redirects=True)
    assert "Executed" in flashes(executed)
    with tx() as session:
        assert session.get(Account, owner.id).email == "thief@example.test"
    assert [to for kind, to, subject, _b in outbox() if subject and "recovery email" in subject] == \
        ["real-owner@example.test"]

    unbind_case, _token = make_case(kind=CaseKind.device_unbind, status=CaseStatus.approved, imei1=device.imei1,
                                    hint_email="thief@example.test", contact_email="thief@example.test")
    requester.next_window()
    approver.next_window()
    request_action(requester, unbind_case)
    [unbind] = actions_of(tx, unbind_case)
    approve(approver, unbind)
    told = {to for kind, to, subject, _b in outbox() if subject == "A device may be removed from your account"}
    assert told == {"real-owner@example.test", "thief@example.test"}
    with tx() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "action.approved",
                                                      AuditEvent.case_number == unbind_case.number)).one()
        assert set(personal.reveal(session, [event])[0].after["notified"]) == told


def test_contacts_recorded_more_than_30_days_ago_are_not_told(app, make_account, make_device, make_case, tx):
    owner = make_account(email="first@example.test", phone="+390611111111")
    device = make_device(account=owner)
    case, _token = make_case(kind=CaseKind.device_unbind, imei1=device.imei1, hint_phone="+39 06 1111 1111",
                             hint_email="unknown@example.test")
    with tx() as session:
        records = session.exec(select(AccountContactRecord).where(AccountContactRecord.case_id == case.id)).all()
        assert [(r.account_id, r.email, r.phone) for r in records] == [(owner.id, "first@example.test", "+390611111111")]
        account = session.get(Account, owner.id)
        account.email, account.phone = "second@example.test", None
        session.add(account)
        session.flush()
        assert notices.recipients(session, account).emails == ["second@example.test", "first@example.test"]
        later = utcnow() + notices.RECORDED_FOR + timedelta(minutes=1)
        found = notices.recipients(session, account, now=later)
        assert (found.emails, found.phones) == (["second@example.test"], [])


def test_the_claimants_own_values_are_never_recorded(make_account, make_device, make_case, tx):
    """Hints that match no account record nothing: only the directory's values are kept."""
    case, _token = make_case(kind=CaseKind.lost_credentials, hint_email="made-up@example.test",
                             hint_phone="+79990000000", contact_email="claimant@example.test")
    with tx() as session:
        assert session.exec(select(AccountContactRecord).where(AccountContactRecord.case_id == case.id)).all() == []


def test_an_unlock_is_announced_when_it_is_scheduled(staff, approved_case, tx, outbox, client):
    agent = staff(Role.agent)
    case, account, _device = approved_case(CaseKind.locked_account, locked=True, phone=None)
    requested = request_action(agent, case)
    assert "contacts were told" in flashes(requested)
    [action] = actions_of(tx, case)
    assert action.status == ActionStatus.scheduled
    [notice] = outbox()
    assert notice[1] == account.email and notice[2] == "Your account may be unlocked"
    assert "does not change your password" in notice[3]
    link = f"/object/{objection_token(notice[3])}"
    shown = client.get(link)
    client.post(link, data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', shown.text).group(1)})
    with tx() as session:
        assert session.get(Action, action.id).status == ActionStatus.cancelled
        assert "unlock" in session.get(Case, case.id).flag_reason
        assert session.get(Account, account.id).status == AccountStatus.locked


@pytest.mark.parametrize("kind", [CaseKind.locked_account, CaseKind.device_unbind])
def test_an_account_no_one_can_be_told_about_needs_another_supervisors_acknowledgement(
        kind, app, staff, make_account, make_device, make_case, tx, outbox):
    requester, approver = staff(Role.supervisor), staff(Role.supervisor)
    account = make_account(email=None, phone=None)
    device = make_device(account=account)
    if kind == CaseKind.locked_account:
        from support import db
        from support.directory import directory
        with app.app_context(), db.transaction(app) as session:
            accounts = directory(session, app.config)
            accounts.lock(accounts.get_account(account.id), "10 wrong passwords")
    case, _token = make_case(kind=kind, status=CaseStatus.approved, imei1=device.imei1,
                             hint_account_id=str(account.id), hint_email=None)
    page = requester.client.get(f"/cases/{case.number}")
    assert "This account has no contact to notify" in page.text  # before anyone acts
    requested = request_action(requester, case)
    assert "no contact to notify" in flashes(requested)
    [action] = actions_of(tx, case)
    assert action.status == ActionStatus.pending_approval  # an unlock too

    assert 'name="no_one_can_be_told"' in approver.client.get(f"/cases/{case.number}").text
    without = approver.client.post(f"/actions/{action.id}/approve", data={"code": approver.code()})
    assert without.status_code == 409 and "no one can be told" in without.text
    assert actions_of(tx, case)[0].status == ActionStatus.pending_approval
    own = requester.client.post(f"/actions/{action.id}/approve",
                                data={"code": requester.code(1), "no_one_can_be_told": "yes", "next": "/approvals"},
                                follow_redirects=True)
    assert "someone else must approve" in flashes(own)
    acknowledged = approve(approver, action, steps_ahead=1, no_one_can_be_told="yes")
    assert "no one can be told" in flashes(acknowledged)
    [action] = actions_of(tx, case)
    assert action.status == ActionStatus.scheduled and action.no_contact_ack_by_id == approver.agent.id
    assert outbox() == []
    with tx() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "action.approved",
                                                      AuditEvent.case_number == case.number)).one()
        assert event.after["no_contact_acknowledged"] is True and event.after["no_contact_ack_by_id"] == approver.agent.id
        assert "no one can be told" in event.reason
    assert "No one could be told" in approver.client.get(f"/cases/{case.number}").text


def test_the_owners_language(make_account, tx):
    cases = {"+79161234567": "ru", "+390612345678": "it", "+441234567890": "en", None: "en"}
    for number, (phone, language) in enumerate(cases.items()):
        account = make_account(email=f"lang{number}@example.test", phone=phone)
        assert notices.language_of(account) == language
    account.language = "ru"
    assert notices.language_of(account) == "ru"  # set on the account: the phone does not matter


def test_language_from_the_import_and_the_cli(runner, tx, tmp_path):
    path = tmp_path / "directory.csv"
    path.write_text("type,email,phone,password,language\n"
                    "account,ivan@example.test,+390611111112,pw,ru\n"
                    "account,nolang@example.test,+79160000001,pw,\n"
                    "account,bad@example.test,,pw,klingon\n")
    result = runner.invoke(args=["directory", "import", str(path)])
    assert "imported 2 rows" in result.output and "refused 1" in result.output and "line 4: language" in result.output
    with tx() as session:
        ivan = session.exec(select(Account).where(Account.email == "ivan@example.test")).one()
        nolang = session.exec(select(Account).where(Account.email == "nolang@example.test")).one()
        assert (ivan.language, notices.language_of(ivan)) == ("ru", "ru")
        assert (nolang.language, notices.language_of(nolang)) == (None, "ru")
        assert session.exec(select(Account).where(Account.email == "bad@example.test")).first() is None
    result = runner.invoke(args=["directory", "set-language", str(ivan.id), "it"])
    assert result.exit_code == 0 and "notices in it" in result.output
    assert runner.invoke(args=["directory", "set-language", str(ivan.id), "klingon"]).exit_code != 0
    assert runner.invoke(args=["directory", "set-language", "12345", "it"]).exit_code != 0
    result = runner.invoke(args=["directory", "set-language", str(nolang.id), "auto"])
    assert result.exit_code == 0 and "notices in ru" in result.output
    with tx() as session:
        assert session.get(Account, ivan.id).language == "it"
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "account.language_set")
                             .order_by(AuditEvent.seq)).first()
        assert event.before == {"language": "ru"} and event.after == {"language": "it"}


def test_notices_render_in_each_language_with_a_working_link(app, staff, approved_case, tx, outbox, client):
    """Italian by phone code, and English for an account with neither language nor known phone code."""
    requester, approver = staff(Role.agent), staff(Role.supervisor)
    italian, _a, _d = approved_case(CaseKind.device_unbind, phone="+3906123")
    english, _a, _d = approved_case(CaseKind.device_unbind, phone="+4420123")
    for case in (italian, english):
        request_action(requester, case)
        approve(approver, actions_of(tx, case)[0])
        requester.next_window()
        approver.next_window()
    emails = [item for item in outbox() if item[0] == "email"]
    assert [subject for _k, _to, subject, _b in emails] == [
        "Un dispositivo potrebbe essere rimosso dal tuo account", "A device may be removed from your account"]
    assert "ha ricevuto una richiesta di rimuovere" in emails[0][3]
    for _kind, _to, _subject, body in emails:
        assert client.get(f"/object/{objection_token(body)}").status_code == 200
