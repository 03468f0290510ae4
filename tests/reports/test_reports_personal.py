"""The case report after the claimant's personal values were erased: its timeline and its
attached audit events (read back with pdftotext and pdfdetach) hold none of them."""
from __future__ import annotations

import json

from support import audit, cases, db, personal
from support.models import CaseStatus, Role

from report_reading import attached_json, needs_poppler, pdf_text

NAME, EMAIL = "Zora Erasable-Report", "zora.erasable@example.test"


@needs_poppler
def test_the_report_reads_the_values_then_the_erased_marker(app, client, login, make_case, tmp_path):
    case, _token = make_case(claimant_name=NAME, contact_email=EMAIL)
    with app.app_context(), db.transaction(app) as session:
        cases.transition(session, cases.get_by_number(session, case.number), CaseStatus.in_review,
                         actor=audit.Actor("agent", "1", "Agent Typist"), reason=f"Called {NAME} back")
    login(Role.agent)
    pdf = client.get(f"/cases/{case.number}/report.pdf").data
    assert f"Reason: Called {NAME} back" in pdf_text(pdf)
    _names, attachment = attached_json(pdf, tmp_path)
    assert EMAIL in json.dumps(attachment, ensure_ascii=False)
    assert all(EMAIL not in json.dumps({k: v for k, v in event.items() if k != "personal"}) for event in attachment)

    with app.app_context(), db.transaction(app) as session:
        personal.erase(session, [case.number], actor=audit.Actor("agent", "9", "Data Protection Officer"))
        assert audit.verify(session).ok
    pdf = client.get(f"/cases/{case.number}/report.pdf").data
    text = pdf_text(pdf)
    assert "Reason: [erased]" in text and f"Called {NAME}" not in text
    _names, attachment = attached_json(pdf, tmp_path)
    dumped = json.dumps(attachment, ensure_ascii=False)
    assert EMAIL not in dumped and NAME not in dumped
    assert None in attachment[0]["personal"].values()
