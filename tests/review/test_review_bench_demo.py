"""The queue bench runs end to end (tiny), and the demo cases cover every kind and status."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from support import db, demo_cases
from support.models import Case, CaseKind, CaseStatus, Evidence, EvidenceKind, Role

ROOT = Path(__file__).resolve().parents[2]


def test_the_queue_bench_seeds_measures_and_ends_with_one_json_line():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "queue.py"), "--cases", "200", "--requests", "3"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["cases"] == 200 and summary["database"] == "sqlite"
    assert {"healthz", "open, SLA due (default)", "search IMEI", "next keyset page"} <= set(summary["figures"])
    assert summary["figures"]["search number"]["rows"] == 1


def test_demo_cases_cover_every_kind_and_status_with_drawn_evidence(app, make_agent, make_device, monkeypatch):
    make_agent(Role.agent)
    for _ in range(3):
        make_device()
    monkeypatch.setattr(demo_cases, "MIX", [(status, 1) for status in CaseStatus if status != CaseStatus.submitted]
                        + [(CaseStatus.submitted, 1)])
    import random
    with app.app_context(), db.transaction(app) as session:
        assert demo_cases.seed(session, config=app.config, rng=random.Random(1)) == len(CaseStatus)
    with app.app_context(), db.transaction(app) as session:
        assert set(session.exec(select(Case.status)).all()) == set(CaseStatus)
        assert set(session.exec(select(Case.kind)).all()) == set(CaseKind)
        kinds = set(session.exec(select(Evidence.kind)).all())
        assert {EvidenceKind.receipt, EvidenceKind.box_photo} <= kinds
        assert all(check for check in session.exec(select(Case.checks)).all())  # every case was checked
        assert session.exec(select(func.count()).select_from(Evidence).where(Evidence.thumbnail_sha256.is_(None))).one() == 0


def test_the_box_label_carries_the_imeis_as_code128_barcodes():
    import io

    from PIL import Image

    label = Image.open(io.BytesIO(demo_cases.box_label_image(model="Redmi 12C", imei1="860000000000018",
                                                              imei2=None, serial="1/A")))
    assert label.size == (560, 360)
    barcode_strip = label.convert("L").crop((20, 104, 540, 190))
    dark_columns = sum(1 for x in range(barcode_strip.width) if barcode_strip.getpixel((x, 40)) < 100)
    assert dark_columns > 50  # bars drawn, not just text
