"""A box label filed through /recover is read by the worker, and its case's checks follow."""
from __future__ import annotations

import io
from datetime import date

from waiting import finished
from PIL import Image
from sqlmodel import select

from support import db, imei
from support.cases import get_by_number
from support.demo_cases import box_label_image, receipt_image
from support.evidence.analysis.run import analyse_evidence
from support.models import AnalysisStatus, Case, Evidence, EvidenceKind


def _photo(label: bytes) -> bytes:
    table = Image.new("RGB", (1400, 1000), (120, 115, 110))
    table.paste(Image.open(io.BytesIO(label)).rotate(5, expand=True, fillcolor=(120, 115, 110)), (300, 250))
    out = io.BytesIO()
    table.save(out, "JPEG", quality=85)
    return out.getvalue()


def _file(client, claimed: str, label_imei: str) -> str:
    label = box_label_image(model="Phone 12", imei1=label_imei, imei2=None, serial="SN-9")
    data = {"kind": "device_unbind", "hint_email": "old@example.test", "imei1": claimed, "model": "Phone 12",
            "purchase_date": "2024-03-01", "shop": "Corner Shop", "claimant_name": "Maria Rossi",
            "contact_email": "maria@example.test", "language": "en", "consent": "y",
            "evidence-receipt": [(io.BytesIO(receipt_image_bytes()), "receipt.jpg")],
            "evidence-box_photo": [(io.BytesIO(_photo(label)), "box.jpg")]}
    response = client.post("/recover", data=data, content_type="multipart/form-data")
    assert response.status_code in (200, 302, 303), response.text
    return claimed


def receipt_image_bytes() -> bytes:
    return receipt_image(shop="Corner Shop", model="Phone 12", imei1=imei.generate(), day=date(2024, 3, 1), price=499)


def _checks(app, claimed: str) -> dict:
    with app.app_context(), db.transaction(app) as session:
        case = session.exec(select(Case).where(Case.imei1 == claimed)).one()
        return {check["code"]: check["result"] for check in get_by_number(session, case.number).checks}


def test_the_worker_reads_the_box_label_and_the_checks_follow(app, client, queue_backend, worker):
    other, own = imei.generate(), imei.generate()
    mismatched = _file(client, imei.generate(), other)
    matching = _file(client, own, own)
    assert _checks(app, mismatched)["label_imei_match"] == "pending"  # the upload did not wait for the reading
    with worker():
        finished(app, count=4, names={analyse_evidence.name})  # two box photos, two receipt pictures
    assert _checks(app, mismatched)["label_imei_match"] == "fail"
    assert _checks(app, matching)["label_imei_match"] == "pass"
    with app.app_context(), db.transaction(app) as session:
        statuses = set(session.exec(select(Evidence.analysis_status).where(Evidence.kind == EvidenceKind.box_photo)))
    assert statuses == {AnalysisStatus.done}


def test_files_whose_analysis_job_was_lost_are_queued_again_by_the_sweep(app, client, queue_backend, worker):
    from datetime import timedelta

    from sqlalchemy import delete, update

    from support import jobs
    from support.evidence.analysis.run import requeue_stalled_analysis, requeue_unanalysed
    from support.models import JobRun, utcnow

    own = imei.generate()
    _file(client, own, own)
    jobs.engine(app).huey.flush()  # the queue lost both jobs, and their rows are gone (pruned, or never written)
    with app.app_context(), db.transaction(app) as session:
        session.exec(delete(JobRun))
        assert requeue_unanalysed(session, older_than=timedelta(minutes=10)) == []  # just uploaded: not yet
        session.exec(update(Evidence).values(created_at=utcnow() - timedelta(minutes=11)))
    assert _checks(app, own)["label_imei_match"] == "pending"
    with worker(), app.app_context():
        jobs.enqueue(requeue_stalled_analysis)
        finished(app, count=3, names={analyse_evidence.name, requeue_stalled_analysis.name})
    with app.app_context(), db.transaction(app) as session:
        assert requeue_unanalysed(session, older_than=timedelta(minutes=10)) == []  # analysed: nothing left
        assert set(session.exec(select(Evidence.analysis_status))) == {AnalysisStatus.done}
    assert _checks(app, own)["label_imei_match"] == "pass"
