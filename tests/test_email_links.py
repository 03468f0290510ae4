"""Every email (and SMS) the desk sends carries its link, built from PUBLIC_URL, in every language.

One test per kind of message, in each language: the message is produced by the code that
really sends it, then read back from the outbox. The kinds are checked against the
templates on disk, so a new email template without an entry here (or without its link)
fails. Claimants get the tracking page; agents and supervisors the agent-side case page,
never the claimant's private link.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import lazy_gettext as _l
from sent_mail import read_outbox
from sqlmodel import select

from support import actions, cases, db, filing, invitations, notices, objections
from support.audit import SYSTEM
from support.models import Account, Action, ActionKind, Agent, Case, CaseStatus, Device, Role, utcnow
from support.review import notify

PUBLIC = "https://desk.example.org/help"
URL = re.compile(r"https?://[^\s<>\"]+")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PUBLIC_URL": PUBLIC}


def _claimant_case(env, template, **context):
    notify.email_claimant(env.session, env.case, template=template, subject=_l("News on your case %(number)s"),
                          **context)


def _action(env, kind: ActionKind) -> Action:
    action = Action(case_id=env.case.id, kind=kind, requested_by_id=env.agent.id, target_account_id=env.account.id,
                    target_device_id=env.device.id, not_before=utcnow() + timedelta(days=2))
    env.session.add(action)
    env.session.flush()
    return action


def _done(env, kind: ActionKind):
    actions._tell_claimant(env.session, _action(env, kind), env.case, env.account, env.config, None)


#: template (under templates/) -> (who reads it, how the desk sends it)
KINDS = {
    "emails/intake_confirm.txt": ("claimant", lambda env: filing._email_claimant(
        env.session, env.case, "confirm", subject=_l("Confirm your email for case %(number)s"),
        confirm_url=filing.links.public("intake.confirm", token=filing.confirmation_token(env.case, env.config)),
        track_url=filing.links.public("intake.track_link", number=env.case.number, t=env.token), token=env.token)),
    "emails/intake_received.txt": ("claimant", lambda env: filing._email_claimant(
        env.session, env.case, "received", subject=_l("We received your case %(number)s"))),
    "emails/intake_claimant_update.txt": ("agent", lambda env: filing._back_to_review(
        env.session, env.waiting(), None, "The claimant replied.")),
    "review/email/message.txt": ("claimant", lambda env: _claimant_case(
        env, "message", body="Please send the receipt again.", requested={"receipt": "unreadable"})),
    "review/email/reminder.txt": ("claimant", lambda env: _claimant_case(env, "reminder", days_left=3)),
    "review/email/closed.txt": ("claimant", lambda env: _claimant_case(env, "closed")),
    "emails/actions_done_unlock_account.txt": ("claimant", lambda env: _done(env, ActionKind.unlock_account)),
    "emails/actions_done_replace_contact.txt": ("claimant", lambda env: _done(env, ActionKind.replace_contact)),
    "emails/actions_done_force_unbind.txt": ("claimant", lambda env: _done(env, ActionKind.force_unbind)),
    "emails/actions_notice_unlock_account.txt": ("owner", lambda env: notices.announce(
        env.session, _action(env, ActionKind.unlock_account), "objection-token")),
    "emails/actions_notice_replace_contact.txt": ("owner", lambda env: notices.announce(
        env.session, _action(env, ActionKind.replace_contact), "objection-token")),
    "emails/actions_notice_force_unbind.txt": ("owner", lambda env: notices.announce(
        env.session, _action(env, ActionKind.force_unbind), "objection-token")),
    "emails/objection_supervisor.txt": ("agent", lambda env: objections._tell_supervisors(
        env.session, env.case, _action(env, ActionKind.force_unbind))),
    "emails/objection_on_hold.txt": ("claimant", lambda env: objections._tell_claimant_on_hold(
        env.session, env.case, None)),
    "emails/admin_agent_link.txt": ("agent", lambda env: invitations.send_link(
        env.session, env.agent, env.config, reset=False)),
    "account/emails/reset.txt": ("owner", lambda env: env.client.post(
        f"/account/reset?lang={env.language}", data={"email": env.account.email})),
}
#: partials and subjects are parts of the messages above; SMS bodies are checked with their emails
PARTS = re.compile(r"(^|/)_[^/]+$|_subject\.txt$|\.sms\.txt$")


def test_every_email_template_is_covered():
    found = {str(path.relative_to(TEMPLATES)) for folder in ("emails", "review/email", "account/emails")
             for path in (TEMPLATES / folder).glob("*.txt") if not PARTS.search(str(path.relative_to(TEMPLATES)))}
    assert found == set(KINDS), "a new email template needs its entry in KINDS (and its link)"


class Env:
    def __init__(self, app, client, session, case, token, agent, account, device, language):
        self.app, self.client, self.session, self.config = app, client, session, app.config
        self.case, self.token, self.agent, self.account, self.device = case, token, agent, account, device
        self.language = language

    def waiting(self) -> Case:
        self.case.assignee_id = self.agent.id
        cases.transition(self.session, self.case, CaseStatus.in_review, actor=SYSTEM)
        cases.transition(self.session, self.case, CaseStatus.waiting_on_claimant, actor=SYSTEM)
        return self.case


@pytest.mark.parametrize("template", sorted(KINDS))
def test_every_email_carries_its_link_on_public_url(app, app_config, client, make_case, make_agent, make_account,
                                                    make_device, template):
    reader, produce = KINDS[template]
    supervisor = make_agent(Role.supervisor, email="supervisor@example.test")
    outbox = Path(app_config["MAIL_OUTBOX_DIR"])
    for number, language in enumerate(["en", "ru", "it"]):
        for old in outbox.glob("*") if outbox.exists() else []:
            old.unlink()
        account = make_account(email=f"owner{number}@example.test", phone=f"+39061234567{number}")
        device = make_device(account=account)
        case, token = make_case(status=CaseStatus.new, language=language, contact_email="claimant@example.test",
                                imei1=device.imei1)
        with app.test_request_context(), db.transaction(app) as session:
            stored_account = session.get(Account, account.id)
            stored_account.language = language
            session.get(Agent, supervisor.id).language = language  # agents read their emails in their language
            env = Env(app, client, session, session.get(Case, case.id), token, session.get(Agent, supervisor.id),
                      stored_account, session.get(Device, device.id), language)
            if not template.startswith("account/"):
                produce(env)
        if template.startswith("account/"):
            produce(env)
        _check(read_outbox(app_config), template, reader, case, token, language,
               owner={account.email, account.phone})


def _check(sent, template, reader, case, token, language, owner):
    expected_to = {"claimant": {"claimant@example.test"}, "agent": {"supervisor@example.test"}, "owner": owner}[reader]
    mine = [message for message in sent if message.to in expected_to]
    assert mine, (template, language, [message.to for message in sent])
    for message in mine:
        links = URL.findall(message.body)
        assert links and all(link.startswith(PUBLIC + "/") for link in links), (template, language, message.kind, links)
        if reader == "claimant":
            assert any(link.startswith(f"{PUBLIC}/track") and case.number in link for link in links), (template, language)
        if reader == "agent" and template != "emails/admin_agent_link.txt":  # that one is about the agent, not a case
            assert any(link == f"{PUBLIC}/cases/{case.number}" for link in links), template
            assert not any("/track" in link for link in links), template  # never the claimant's private link
        if token in message.body:  # the private code travels only in the confirmation email, to the claimant
            assert template == "emails/intake_confirm.txt" and message.to == "claimant@example.test"
