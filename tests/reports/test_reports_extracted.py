"""The internal PDF report prints what the analysis read from each file (status, each value as
read, an agent's correction with who and when, the source); the claimant's copy prints none of
it: a box label can carry another phone's IMEI, which is another person's data."""
from __future__ import annotations

import io
from datetime import date

from PIL import Image
from sqlmodel import select

from receipt_samples import make_receipt, receipt_pdf
from report_reading import needs_poppler, pdf_text
from support import db, evidence, imei
from support.cases import get_by_number
from support.demo_cases import box_label_image
from support.evidence.analysis.run import analyse_evidence
from support.models import AnalysisStatus, CaseKind, CaseStatus, EvidenceKind, ExtractedKind, ExtractedValue, Role, utcnow

pytestmark = needs_poppler


def _attach(app, number: str, kind: EvidenceKind, data: bytes, name: str) -> int:
    with app.test_request_context(), db.transaction(app) as session:
        item = evidence.attach(session, case=get_by_number(session, number), upload=evidence.Upload(name, data, kind),
                               uploaded_by="claimant", config=app.config)
        return item.id


def _photo(png: bytes) -> bytes:
    table = Image.new("RGB", (1600, 1200), (120, 115, 110))
    sticker = Image.open(io.BytesIO(png)).convert("RGB")
    table.paste(sticker, ((1600 - sticker.width) // 2, (1200 - sticker.height) // 2))
    out = io.BytesIO()
    table.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_the_report_prints_extracted_values_and_the_claimants_copy_does_not(app, runner, make_case, make_agent,
                                                                          tmp_path):
    import random

    agent = make_agent(Role.agent, name="Giulia Correttrice")
    case, _ = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review, purchase_date=date(2024, 3, 1))
    someone_elses = imei.generate()  # the box of another phone: its IMEI is another person's data
    box = _attach(app, case.number, EvidenceKind.box_photo,
                  _photo(box_label_image(model="Phone 12", imei1=someone_elses, imei2=None, serial=None)), "box.jpg")
    receipt = make_receipt(random.Random(3), "en", imei_value=case.imei1, day=date(2024, 3, 1))
    paper = _attach(app, case.number, EvidenceKind.receipt, receipt_pdf(receipt), "receipt.pdf")
    with app.app_context():
        assert analyse_evidence(box) == AnalysisStatus.done
        assert analyse_evidence(paper) == AnalysisStatus.done
    corrected_at = utcnow()
    with app.app_context(), db.transaction(app) as session:  # an agent corrected the receipt's date
        value = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id == paper,
                                                          ExtractedValue.kind == ExtractedKind.date)).first()
        value.corrected_value, value.corrected_by_id, value.corrected_at = "2024-03-02", agent.id, corrected_at
        session.add(value)

    internal = tmp_path / "internal.pdf"
    result = runner.invoke(args=["report", case.number, "-o", str(internal), "--lang", "it"])
    assert result.exit_code == 0, result.output
    text = pdf_text(internal.read_bytes())
    assert text.count("Analisi: letto") == 2
    assert someone_elses in text and case.imei1 in text
    assert "codice a barre" in text and "il testo del PDF" in text and "pagina 1" in text
    assert "Code128: " + someone_elses in text, "the barcode as read, with its format"
    assert "2024-03-01" in text and "2024-03-02" in text and "Giulia Correttrice" in text, "read, corrected, by whom"
    assert "Correzione" in text and "Come letto" in text

    english = tmp_path / "internal-en.pdf"
    assert runner.invoke(args=["report", case.number, "-o", str(english)]).exit_code == 0
    assert "Analysis: read" in pdf_text(english.read_bytes())

    copy = tmp_path / "claimant.pdf"
    result = runner.invoke(args=["report", case.number, "-o", str(copy), "--for-claimant", "--lang", "it"])
    assert result.exit_code == 0, result.output
    claimant_text = pdf_text(copy.read_bytes())
    assert someone_elses not in claimant_text, "another phone's IMEI never reaches the claimant"
    assert "Analisi" not in claimant_text and "Giulia Correttrice" not in claimant_text
    assert "Code128" not in claimant_text and "codice a barre" not in claimant_text


def test_a_file_whose_analysis_failed_or_waits_says_so(app, runner, make_case, tmp_path):
    case, _ = make_case(kind=CaseKind.device_unbind, status=CaseStatus.in_review)
    blank = _photo(box_label_image(model="Phone 12", imei1="", imei2=None, serial=None))
    waiting = _attach(app, case.number, EvidenceKind.box_photo, blank, "box.jpg")
    output = tmp_path / "report.pdf"
    assert runner.invoke(args=["report", case.number, "-o", str(output), "--lang", "ru"]).exit_code == 0
    assert "Анализ: анализируется…" in pdf_text(output.read_bytes())  # the job has not run yet
    with app.app_context():
        assert analyse_evidence(waiting) == AnalysisStatus.done
    assert runner.invoke(args=["report", case.number, "-o", str(output), "--lang", "ru"]).exit_code == 0
    assert "Анализ: прочитан" in pdf_text(output.read_bytes()) and "ничего не прочитано" in pdf_text(output.read_bytes())
