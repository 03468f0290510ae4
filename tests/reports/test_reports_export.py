"""Bulk export on every core: one PDF per case, a manifest that matches, every report audited."""
from __future__ import annotations

import csv
import hashlib
from datetime import timedelta

from sqlmodel import select

from support import audit, db
from support.models import AuditEvent, CaseStatus, utcnow

from report_reading import needs_poppler, pdf_text


@needs_poppler
def test_export_writes_one_audited_pdf_per_case_and_a_correct_manifest(app, runner, make_case, tmp_path):
    in_review = [make_case(status=CaseStatus.in_review)[0].number for _ in range(3)]
    make_case(status=CaseStatus.new)
    out = tmp_path / "export"

    result = runner.invoke(args=["reports", "export", "--status", "in_review", "--out", str(out), "--lang", "it"])

    assert result.exit_code == 0, result.output
    assert "3 reports in" in result.output
    with (out / "manifest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["case_number"] for row in rows] == sorted(in_review)
    assert sorted(path.name for path in out.iterdir()) == sorted([f"{number}.pdf" for number in in_review] + ["manifest.csv"])
    with app.app_context(), db.transaction(app) as session:
        generated = {event.case_number: event for event in
                     session.exec(select(AuditEvent).where(AuditEvent.action == "report.generated"))}
        assert audit.verify(session).ok, "parallel workers kept the chain linear"
    for row in rows:
        pdf = (out / row["file_name"]).read_bytes()
        assert row["sha256"] == hashlib.sha256(pdf).hexdigest() == generated[row["case_number"]].after["sha256"]
        assert f"Rapporto della pratica {row['case_number']}" in pdf_text(pdf, first=1, last=1)
    assert set(generated) == set(in_review)

    tomorrow = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d")
    result = runner.invoke(args=["reports", "export", "--since", tomorrow, "--out", str(tmp_path / "none")])
    assert result.exit_code == 0 and "No case matches" in result.output
