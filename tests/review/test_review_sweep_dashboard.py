"""The sweep (idempotent), the dashboard's charts, canned replies."""
from __future__ import annotations

import email
import email.policy
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from support import db
from support.models import Case, CaseStatus, Role, utcnow


def aged(app, number, **values):
    with app.app_context(), db.transaction(app) as session:
        session.exec(update(Case).where(Case.number == number).values(**values))


def test_sweep_reminds_closes_flags_and_a_second_run_changes_nothing(app, runner, make_case, load):
    now = utcnow()
    remind, _ = make_case(status=CaseStatus.waiting_on_claimant, language="ru")
    close, _ = make_case(status=CaseStatus.waiting_on_claimant)
    fresh, _ = make_case(status=CaseStatus.waiting_on_claimant)
    late, _ = make_case(status=CaseStatus.new)
    aged(app, remind.number, waiting_since=now - timedelta(days=app.config["REMIND_AFTER_DAYS"], hours=1))
    aged(app, close.number, waiting_since=now - timedelta(days=app.config["AUTO_CLOSE_AFTER_DAYS"], hours=1))
    aged(app, late.number, sla_due_at=now - timedelta(minutes=1))

    first = runner.invoke(args=["cases", "sweep"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"reminded": 1, "closed": 1, "sla_breached": 1}
    assert load(remind.number).reminded_at is not None and load(remind.number).status == CaseStatus.waiting_on_claimant
    assert load(close.number).status == CaseStatus.closed
    assert load(fresh.number).reminded_at is None
    assert load(late.number).sla_breached
    mails = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
             for path in sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))]
    subjects = sorted(str(message["Subject"]) for message in mails)
    assert subjects == sorted([f"Case {close.number} was closed",
                               f"Мы ждём вашего ответа по обращению {remind.number}"])
    versions = {number: load(number).version for number in (remind.number, close.number, fresh.number, late.number)}

    second = runner.invoke(args=["cases", "sweep"])
    assert json.loads(second.output) == {"reminded": 0, "closed": 0, "sla_breached": 0}
    assert {number: load(number).version for number in versions} == versions
    assert len(sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))) == 2


def test_dashboard_draws_its_charts_as_inline_svg(app, client, login, make_case):
    agent = login(Role.supervisor)
    make_case(status=CaseStatus.rejected)
    waiting, _ = make_case(status=CaseStatus.waiting_on_claimant)
    held, _ = make_case(status=CaseStatus.in_review)
    aged(app, held.number, assignee_id=agent.id)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.text.count("<svg") == 4 and "<script" not in page.text.split("<main>")[1]
    assert 'src="http' not in page.text and 'href="http' not in page.text  # nothing from a CDN
    assert waiting.number in page.text and agent.name in page.text


def test_admins_edit_canned_replies_per_language_and_agents_use_them(app, client, login, make_case):
    login(Role.admin)
    assert client.post("/canned-replies/defaults").status_code == 302
    page = client.get("/canned-replies").text
    assert "Чек не читается" in page and "Scontrino illeggibile" in page
    bad = client.post("/canned-replies", data={"key": "bad key!", "language": "xx", "title": "", "body": ""})
    assert bad.status_code == 422 and "Use letters, digits and underscores" in bad.text
    clash = client.post("/canned-replies", data={"key": "box_label", "language": "it", "title": "T", "body": "B"})
    assert clash.status_code == 422 and 'value="T"' in clash.text  # what was typed is kept
    assert client.post("/canned-replies", data={"key": "welcome", "language": "it", "title": "Benvenuto",
                                                "body": "Ciao! Abbiamo ricevuto la tua richiesta."}).status_code == 302
    case, _ = make_case(status=CaseStatus.in_review, language="it")
    page = client.get(f"/cases/{case.number}").text
    assert "Benvenuto" in page and "Scontrino illeggibile" in page and "Receipt unreadable" not in page
