"""Agents have a language: their pages follow it, ?lang= switches one page, the profile and
the CLI set it (audited), and enums carry their own titles in every language."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlmodel import select

from support import db
from support.labels import label
from support.models import ActionStatus, Agent, AuditEvent, CaseKind, CaseStatus, Language, Role


def test_enum_titles_follow_the_locale(app):
    with app.test_request_context():
        assert CaseStatus.waiting_on_claimant.title == "Waiting on claimant"
        with force_locale("ru"):
            assert CaseStatus.new.title == "Новое"
            assert ActionStatus.title_of("pending_approval") == "Ожидает одобрения"
            assert label("force_unbind") == "Принудительно отвязать устройство"
            assert CaseKind.titles()["locked_account"] == "Заблокированный аккаунт"
        with force_locale("it"):
            assert CaseStatus.new.title == "Nuova" and Language.it.title == "italiano"
            assert label(ActionStatus.scheduled) == "Pianificata"
        # what no enum knows is shown as it is, never as an error
        assert CaseStatus.title_of("<script>") == "<script>" and label(None) == "" and label("no_such") == "no_such"


def test_every_title_is_translated_in_russian_and_italian(app):
    """A title added to an enum without its translations fails here, naming it."""
    from support.labels import ENUMS
    from support.models import SubjectType
    with app.test_request_context():
        for language in ("ru", "it"):
            with force_locale(language):
                for enum in (*ENUMS, SubjectType):
                    for value, title in enum.__titles__.items():
                        english = title._args[0]
                        if english in {"IMEI", "SMS", "email", "file", "account"}:  # the same word in the language
                            continue
                        assert str(title) != english, f"{enum.__name__}.{value} has no {language} title"


def _agent_language(app, agent_id):
    with app.app_context(), db.transaction(app) as session:
        return session.get(Agent, agent_id).language


def test_the_agents_language_decides_and_lang_switches_one_page(client, login, app):
    agent = login(Role.agent)
    headers = {"Accept-Language": "it"}
    assert '<html lang="en">' in client.get("/queue", headers=headers).text  # the agent's own language, not the browser's
    response = client.post("/agent/profile/language", data={"language": "ru"})
    assert response.status_code == 302 and _agent_language(app, agent.id) == "ru"
    page = client.get("/queue", headers=headers).text
    assert '<html lang="ru">' in page and "Очередь" in page
    assert '<html lang="it">' in client.get("/queue?lang=it").text  # a one-off switch ...
    assert '<html lang="ru">' in client.get("/queue").text  # ... that does not change the agent's setting
    with app.app_context(), db.transaction(app) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "agent.language_set")).one()
        assert event.before == {"language": "en"} and event.after == {"language": "ru"}
        assert event.actor_id == str(agent.id)


@pytest.mark.parametrize("hostile", ["xx", "", "ru; DROP TABLE agent", "EN"])
def test_a_language_the_desk_does_not_speak_is_refused(client, login, app, hostile):
    agent = login(Role.agent)
    response = client.post("/agent/profile/language", data={"language": hostile}, follow_redirects=True)
    assert "Choose one of the languages offered." in response.text
    assert _agent_language(app, agent.id) == "en"


def test_only_a_signed_in_agent_sets_a_language(client, app, make_agent):
    agent = make_agent(Role.agent)
    response = client.post("/agent/profile/language", data={"language": "it"})
    assert response.status_code in (302, 401, 403) and "/agent/sign-in" in response.headers.get("Location", "/agent/sign-in")
    assert _agent_language(app, agent.id) == "en"


def test_the_cli_creates_agents_with_a_language_and_changes_it(runner, app):
    result = runner.invoke(args=["create-agent", "lingua@example.test", "--name", "Lucia", "--language", "it",
                                 "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    with app.app_context(), db.transaction(app) as session:
        agent = session.exec(select(Agent).where(Agent.email == "lingua@example.test")).one()
        assert agent.language == "it"
    result = runner.invoke(args=["agents", "set-language", "lingua@example.test", "ru"])
    assert result.exit_code == 0, result.output
    assert _agent_language(app, agent.id) == "ru"
    refused = runner.invoke(args=["agents", "set-language", "lingua@example.test", "de"])
    assert refused.exit_code != 0 and _agent_language(app, agent.id) == "ru"
