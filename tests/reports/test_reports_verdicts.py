"""The internal PDF report prints each file's verdict (which, why, the agent's note, who and
when), in the report's language; the claimant's copy keeps its own wording."""
from __future__ import annotations

from PIL import Image

from pictures import jpeg
from report_reading import needs_poppler, pdf_text
from support import audit, db, evidence, verdicts
from support.cases import get_by_number
from support.models import CaseKind, CaseStatus, Evidence, EvidenceKind, Role, Verdict, VerdictReason

pytestmark = needs_poppler


def _attach(app, number: str, kind: EvidenceKind, name: str, colour) -> int:
    with app.test_request_context(), db.transaction(app) as session:
        item = evidence.attach(session, case=get_by_number(session, number),
                               upload=evidence.Upload(name, jpeg(Image.new("RGB", (800, 600), colour)), kind),
                               uploaded_by="claimant", config=app.config)
        return item.id


def test_the_report_prints_each_files_verdict_with_reason_note_and_agent(app, runner, make_case, make_agent, tmp_path):
    agent = make_agent(Role.agent, name="Vera Verdi")
    case, _ = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review)
    box = _attach(app, case.number, EvidenceKind.box_photo, "box.jpg", (10, 120, 30))
    receipt = _attach(app, case.number, EvidenceKind.receipt, "receipt.jpg", (200, 30, 30))
    _attach(app, case.number, EvidenceKind.device_photo, "phone.jpg", (30, 30, 200))
    actor = audit.Actor("agent", str(agent.id), agent.name)
    with app.test_request_context(), db.transaction(app) as session:
        row = get_by_number(session, case.number)
        verdicts.set_verdict(session, row, session.get(Evidence, box), verdict=Verdict.accepted, reason=None,
                             note=None, agent_id=agent.id, actor=actor)
        verdicts.set_verdict(session, row, session.get(Evidence, receipt), verdict=Verdict.needs_upload,
                             reason=VerdictReason.other, note="the shop stamp is cut off", agent_id=agent.id,
                             actor=actor)

    english, italian = tmp_path / "en.pdf", tmp_path / "it.pdf"
    assert runner.invoke(args=["report", case.number, "-o", str(english)]).exit_code == 0
    assert runner.invoke(args=["report", case.number, "-o", str(italian), "--lang", "it"]).exit_code == 0
    text = " ".join(pdf_text(english.read_bytes()).split())
    assert text.count("Verdict:") == 2, "the file nobody judged has no verdict line"
    assert "Verdict: Accepted · Vera Verdi" in text
    assert "Verdict: Needs a new upload · Another reason (see the note) · Vera Verdi" in text
    assert "the shop stamp is cut off" in text
    assert " ".join(pdf_text(italian.read_bytes()).split()).count("Giudizio:") == 2
