"""Every email a claimant gets about their case carries the link to it, on PUBLIC_URL."""
from __future__ import annotations

import re

import pytest
from flask_babel import lazy_gettext as _l
from intake_samples import files_for
from sent_mail import read_outbox
from sqlmodel import select
from unlocks import scheduled_unlock

from support import actions, db
from support.models import Action, Agent, Case, utcnow
from support.review import notify
from support.stepup import SteppedUp

PUBLIC = "https://desk.example.org/help"
URL = re.compile(r"https?://[^\s<>\"]+")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PUBLIC_URL": PUBLIC}


def test_every_claimant_email_links_to_the_case_on_public_url(app, app_config, client, claim_fields, make_agent,
                                                               make_account, make_device):
    filed = client.post("/recover", data={**claim_fields("locked_account"), **files_for("locked_account")},
                        content_type="multipart/form-data", headers={"Host": "attacker.example"})
    assert filed.status_code in (302, 303), filed.text
    [confirm] = read_outbox(app_config)
    number = re.search(r"RD-\d{4}-\d+", confirm.subject).group()
    confirm_link = next(link for link in URL.findall(confirm.body) if "/recover/confirm/" in link)
    assert client.get(confirm_link.removeprefix(PUBLIC)).status_code == 200  # the "received" email
    with app.app_context(), db.transaction(app) as session:
        case = session.exec(select(Case).where(Case.number == number)).one()
        notify.email_claimant(session, case, template="message", subject=_l("News on your case %(number)s"),
                              body="News.", requested={})
        notify.email_claimant(session, case, template="message", body="Send a receipt.", requested={"receipt": "x"},
                              subject=_l("We need more information for case %(number)s"))
        notify.email_claimant(session, case, template="reminder", days_left=3,
                              subject=_l("We are waiting for your answer on case %(number)s"))
        notify.email_claimant(session, case, template="closed", subject=_l("Case %(number)s was closed"))
    done = _unlock_case(app, make_agent, make_account, make_device)

    mails = [mail for mail in read_outbox(app_config) if mail.to == "maria@example.test"]
    assert len(mails) == 7
    for mail in mails:
        links = URL.findall(mail.body)
        assert all(link.startswith(PUBLIC + "/") for link in links), (mail.subject, links)
        expected = done if mail is mails[-1] else number
        assert any(link.startswith(f"{PUBLIC}/track") and expected in link for link in links), mail.subject
    assert "Segui la pratica" in mails[-1].body  # the case link speaks the case's language
    assert f'value="{number}"' in client.get(f"/track?number={number}").text  # the link fills in the number


def _unlock_case(app, make_agent, make_account, make_device) -> str:
    """An unlock executed for an approved locked-account case: the "case complete" email."""
    action_id, agent_id, _account, number = scheduled_unlock(app, make_agent, make_account, make_device,
                                                             claimant_name="Maria Rossi",
                                                             contact_email="maria@example.test", language="it")
    with app.app_context(), db.transaction(app) as session:
        actions.execute(session, session.get(Action, action_id), executor=session.get(Agent, agent_id),
                        step_up=SteppedUp(agent_id, utcnow()), config=app.config)
    return number
