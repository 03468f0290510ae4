"""The case report read back with poppler: sections, attachment, head hash, variants, archival metadata."""
from __future__ import annotations

import hashlib
import io
import re
import subprocess

import pypdf
from sqlmodel import select

from support import audit, cases, checks, db, personal
from support.models import AuditEvent, CaseKind, CaseStatus, Role

from report_reading import INTERNAL_NOTE, PUBLIC_MESSAGE, attached_json, needs_poppler, pdf_meta, pdf_text

pytestmark = needs_poppler

SECTIONS_EN = ["Case", "The claimant's statements", "Device and account in the directory", "Automatic checks",
               "Evidence", "Conversation", "Decision and actions", "Audit timeline", "Integrity"]


def _events(app, number: str) -> list[AuditEvent]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.case_number == number).order_by(AuditEvent.seq)))


def test_agent_downloads_a_full_archival_report_whose_trail_matches_the_chain(app, client, login, rich_case, tmp_path):
    login(Role.agent, name="Dana Downloader")
    response = client.get(f"/cases/{rich_case.number}/report.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename={rich_case.number}-en.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pdf = response.data
    text = pdf_text(pdf)
    for heading in SECTIONS_EN:
        assert heading in text
    # header, statements, directory facts at the decision (the device was still bound then)
    assert f"Case report {rich_case.number}" in text and "Device bound to another account" in text
    assert "Approved" in text and "SLA due" in text and "Electro Shop Milano" in text
    assert "As at the decision" in text and "owner@example.test" in text and "12345/A1234567" in text
    # checks, evidence with its hash and type, messages with the internal note marked
    assert "imei_on_receipt" in text and "IMEI 1 is printed on the receipt" in text
    assert rich_case.receipt_sha256 in text and "image/jpeg" in text and "image/png" in text
    assert PUBLIC_MESSAGE in text and "INTERNAL NOTE" in text and INTERNAL_NOTE in text
    # decision and who requested, approved and executed the action
    assert "Receipt and box label match the device." in text and "Force-unbind device" in text
    assert "Alex Requester" in text and "Sam Approver" in text and "Internal decision note" in text
    # footer on every page: generated at / by, page x / n
    pages = int(next(line for line in pdf_meta(pdf)[0].splitlines() if line.startswith("Pages:")).split()[1])
    assert text.count("by Dana Downloader") == 1 + pages, "under the title, then in every page's footer"
    assert all(re.search(rf"\b{page} ?/ ?{pages}\b", text) for page in range(1, pages + 1))

    events = _events(app, rich_case.number)
    generated = events[-1]
    assert generated.action == "report.generated", "the GET committed its audit event"
    assert generated.actor_name == "Dana Downloader"
    assert generated.after["sha256"] == hashlib.sha256(pdf).hexdigest()
    before_generation = events[:-1]
    names, attachment = attached_json(pdf, tmp_path)
    assert names == ["audit-events.json"]
    with app.app_context(), db.transaction(app) as session:
        values = personal.personal_map(session, before_generation)
        assert attachment == [audit.as_dict(event, values.get(event.seq)) for event in before_generation]
        assert "claimant@example.test" in values[before_generation[0].seq].values()
        head_then = session.exec(select(AuditEvent).where(AuditEvent.seq == generated.after["head_seq"])).one()
        checkpoint = audit.latest_checkpoint(session)
        assert generated.seq == head_then.seq + 1 and audit.verify(session).ok
    assert f"#{head_then.seq} {head_then.hash}" in text
    assert checkpoint.head_hash in text

    info, xmp = pdf_meta(pdf)
    assert f"Title: Case report {rich_case.number}" in " ".join(info.split())
    assert f"Subject: {rich_case.number}" in " ".join(info.split())
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert pypdf.PdfReader(io.BytesIO(pdf)).xmp_metadata.dc_language == ["en"]
    catalog = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert catalog["/Lang"] == "en" and "/AF" in catalog and "/OutputIntents" in catalog


def test_claimant_copy_in_russian_from_the_command_line(app, runner, rich_case, tmp_path):
    output = tmp_path / "claimant.pdf"
    result = runner.invoke(args=["report", rich_case.number, "-o", str(output), "--for-claimant", "--lang", "ru"])

    assert result.exit_code == 0, result.output
    pdf = output.read_bytes()
    text = pdf_text(pdf)
    assert f"Отчёт по обращению {rich_case.number}" in text
    for heading in ["Сведения от заявителя", "Доказательства", "Переписка", "Решение и действия", "Этапы обращения"]:
        assert heading in text
    assert "КОПИЯ ДЛЯ ЗАЯВИТЕЛЯ" in text and "Обращение подано." in text and "Статус обращения: " in text
    assert "Чек о покупке" in text and "Служба поддержки" in text
    assert PUBLIC_MESSAGE in text
    assert INTERNAL_NOTE not in text and "ВНУТРЕННЯЯ ЗАМЕТКА" not in text and "Internal decision note" not in text
    assert "owner@example.test" not in text and "+393331234567" not in text, "no one else's contacts"
    assert "Alex Requester" not in text and "Sam Approver" not in text, "agents sign as the support team"
    assert "Автоматические проверки" not in text and "IMEI 1 is printed on the receipt" not in text
    fonts = subprocess.run(["pdffonts", str(output)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all("DejaVu" in row and re.search(r"\byes\s+yes\s+yes\b", row) for row in rows), "DejaVu, embedded"
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "ru" and reader.xmp_metadata.dc_language == ["ru"]
    generated = _events(app, rich_case.number)[-1]
    assert generated.action == "report.generated" and generated.actor_type == "cli"
    assert generated.after == {**generated.after, "language": "ru", "for_claimant": True,
                               "sha256": hashlib.sha256(pdf).hexdigest()}


def test_who_may_download_and_what_is_refused(app, client, login, make_case):
    case, _token = make_case()
    url = f"/cases/{case.number}/report.pdf"
    assert client.get(url).status_code == 302, "anonymous visitors are sent to sign in"
    login(Role.auditor)
    case_page = client.get(f"/cases/{case.number}").text
    assert f'action="{url}"' in case_page and 'name="for_claimant"' in case_page, "the case page panel"
    assert client.get(f"{url}?lang=de").status_code == 400
    assert client.get("/cases/RD-2000-999999/report.pdf").status_code == 404
    response = client.get(f"{url}?lang=it&for_claimant=1")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].endswith(f"{case.number}-claimant-it.pdf")
    actions = [event.action for event in _events(app, case.number)]
    assert actions.count("report.generated") == 1, "refused requests leave no audit event"


def test_checks_are_named_and_explained_in_the_reports_language(app, runner, make_case, tmp_path):
    case, _token = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review)
    with app.app_context(), db.transaction(app) as session:
        checks.refresh(session, cases.get_by_number(session, case.number), app.config)
    output = tmp_path / "it.pdf"
    assert runner.invoke(args=["report", case.number, "-o", str(output), "--lang", "it"]).exit_code == 0

    text = pdf_text(output.read_bytes())
    assert "Prove necessarie" in text and "Email di contatto confermata" in text, "check names in Italian"
    assert "la directory non ha alcun dispositivo con questo IMEI" in text
    assert "mancano: Scontrino d'acquisto, Foto dell'etichetta della scatola" in text
    assert "required_evidence" not in text and "missing:" not in text


def test_the_reports_chronology_and_fields_speak_its_language(app, runner, rich_case, tmp_path):
    """Russian and Italian reports: the case's language by name, the audit timeline as sentences."""
    texts = {}
    for language in ("ru", "it"):
        output = tmp_path / f"{language}.pdf"
        assert runner.invoke(args=["report", rich_case.number, "-o", str(output), "--lang", language]).exit_code == 0
        texts[language] = " ".join(pdf_text(output.read_bytes()).split())
    assert "Язык английский" in texts["ru"] and "Lingua inglese" in texts["it"], "the language's name, not its code"
    assert "обращение подано" in texts["ru"] and "статус обращения изменён" in texts["ru"]
    assert "ha aperto la pratica" in texts["it"] and "ha spostato la pratica" in texts["it"]
    for text in texts.values():
        assert "case.transition" not in text and "case.filed" not in text and '"status"' not in text
