"""Benchmark of the case report: time and size against the issue's targets.

Builds, in a temporary SQLite database, a case with six 4000x3000 camera-like JPEGs
(gradients, shapes, text and sensor noise, so they do not compress to nothing), filed
through the app's evidence pipeline, and 100 audit events; then renders its report in a
warm process several times and reports the median and 95th percentile and the PDF size.
Beside it, in the same run: the same case as if its evidence had been stored without
print copies (every image draft-decoded while the report renders) and the naive
baseline, every photo embedded at full size.

    .venv/bin/python bench/report.py [--runs 15]

Prints its figures and ends with one JSON line. Targets: warm < 0.5 s, size < 1.5 MB.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

# the repository instead of bench/ itself: bench/queue.py would shadow the standard library's queue
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlmodel import Session, select  # noqa: E402

from support import audit, cases, create_app, db, evidence, imei  # noqa: E402
from support.models import CaseKind, CaseStatus, Evidence, EvidenceKind, MessageVisibility  # noqa: E402
from support.evidence import prints  # noqa: E402
from support.reports import pdf  # noqa: E402
from support.storage import Storage, for_app  # noqa: E402

TARGET_SECONDS = 0.5  # a warm render
TARGET_BYTES = 1_500_000
PHOTO_SIZE = (4000, 3000)
KINDS = [EvidenceKind.receipt, EvidenceKind.box_photo, EvidenceKind.box_photo, EvidenceKind.device_photo,
         EvidenceKind.sim_proof, EvidenceKind.imei_screen]
ACTOR = audit.Actor("cli", "bench", "bench")


def camera_photo(seed: int) -> bytes:
    """A 12-megapixel JPEG that behaves like a phone photo: structure plus sensor noise."""
    rng = random.Random(seed)
    width, height = PHOTO_SIZE
    photo = Image.linear_gradient("L").resize(PHOTO_SIZE).convert("RGB")
    tint = Image.new("RGB", PHOTO_SIZE, tuple(rng.randrange(60, 200) for _ in range(3)))
    photo = Image.blend(photo, tint, 0.6)
    draw = ImageDraw.Draw(photo)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        box = (x, y, x + rng.randrange(100, 1200), y + rng.randrange(100, 900))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour, outline=(0, 0, 0), width=6)
    for line in range(30):  # receipt-like lines of text
        draw.text((300, 200 + line * 90), f"ITEM {line:02d}  REDMI NOTE 13  IMEI 86{rng.randrange(10**13):013d}  "
                  f"{rng.randrange(1, 999)}.{rng.randrange(100):02d} EUR", fill=(10, 10, 10), font_size=60)
    photo = photo.filter(ImageFilter.GaussianBlur(1.2))
    noise = Image.effect_noise(PHOTO_SIZE, 24).convert("RGB")
    photo = Image.blend(photo, noise, 0.12)
    output = io.BytesIO()
    photo.save(output, "JPEG", quality=90)
    return output.getvalue()


def build_case(app, store: Storage) -> str:
    """The bench case: six photos filed as a claimant files them, a conversation with internal
    notes, 100 audit events in all."""
    with app.test_request_context(), db.transaction(app) as session:  # the pipeline speaks the request's language
        claim = cases.Claim(kind=CaseKind.device_unbind, claimant_name="Bench Claimant", contact_email="bench@example.test",
                            language="en", imei1=imei.generate(), model="Redmi Note 13", shop="Bench Shop")
        case, _token = cases.file_case(session, claim=claim, config=app.config)
        for number, kind in enumerate(KINDS):
            upload = evidence.Upload(f"IMG_{number:04d}.jpg", camera_photo(number), kind)
            evidence.attach(session, case=case, upload=upload, uploaded_by="claimant", config=app.config)
        cases.confirm_contact(session, case)
        cases.transition(session, case, CaseStatus.in_review, actor=ACTOR)
        for number in range(12):  # a long conversation; a third of it internal notes
            visibility = MessageVisibility.internal if number % 3 == 0 else MessageVisibility.public
            cases.add_message(session, case, body=f"Message {number}: please send a clearer photo of the box label, "
                              "with both IMEI barcodes visible and the receipt next to it.", actor=ACTOR,
                              visibility=visibility)
        events = 4 + len(KINDS) + 12
        while events < 100:  # the rest of a busy case's trail: agents opening the evidence
            audit.record(session, actor=ACTOR, action="evidence.viewed", subject=("evidence", events % 6 + 1),
                         case_number=case.number, after={"area": "viewable"})
            events += 1
        return case.number


def upload_cost(app) -> dict:
    """What a print copy adds to an upload: the pipeline's inspection of one photo, and the
    print copy made from the picture it decoded."""
    photo = camera_photo(99)
    with app.test_request_context():
        started = time.perf_counter()
        evidence.inspect(evidence.Upload("IMG_0099.jpg", photo, EvidenceKind.box_photo), app.config)
        inspection = time.perf_counter() - started
    decoded = Image.open(io.BytesIO(photo))
    decoded.load()
    started = time.perf_counter()
    for kind in (EvidenceKind.box_photo, EvidenceKind.receipt):
        prints.print_copy(decoded, prints.box_for(kind))
    return {"inspection_s": inspection, "print_copy_s": (time.perf_counter() - started) / 2}


def render_once(app, store: Storage, number: str, *, print_copies: bool = True) -> tuple[float, float, bytes]:
    """One report, timed (wall clock and this process's CPU); rolled back so every run renders the same case.

    Without ``print_copies`` the evidence rows forget theirs for this run, as rows stored
    before print copies existed: the report decodes the viewable copies instead."""
    with app.app_context(), Session(db.engine(app), expire_on_commit=False) as session:
        case = cases.get_by_number(session, number)
        if not print_copies:
            for item in session.exec(select(Evidence).where(Evidence.case_id == case.id)):
                item.print_sha256 = None
        started, cpu_started = time.perf_counter(), time.process_time()
        report = pdf.render_case_report(session, case, generated_by=ACTOR, config=app.config, storage=store)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        session.rollback()
    return elapsed, cpu, report


def full_size_preview(evidence, storage, config):
    """The naive baseline: the stored full-size viewable photo embedded as it is."""
    return storage.open("viewable", evidence.viewable_sha256)


def measure(app, store, number, runs: int, **options) -> dict:
    """The first render in the process (cold), then ``runs`` warm ones."""
    cold, _cpu, report = render_once(app, store, number, **options)
    times, cpus = [], []
    for _ in range(runs):
        elapsed, cpu, _report = render_once(app, store, number, **options)
        times.append(elapsed)
        cpus.append(cpu)
    times.sort()
    return {"cold_s": cold, "bytes": len(report), "median_s": statistics.median(times),
            "p95_s": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], "cpu_median_s": statistics.median(cpus)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="warm renders to time (default 15)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="rd-bench-") as folder:
        root = Path(folder)
        app = create_app({"RD_ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{root / 'bench.sqlite'}",
                          "INSTANCE_PATH": str(root / "instance"), "UPLOAD_DIR": str(root / "uploads")})
        db.upgrade(app)
        store = for_app(app)
        started = time.perf_counter()
        number = build_case(app, store)
        print(f"built {number}: 6 photos of {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} "
              f"({sum(len(store.open('originals', entry.name)) for entry in store.entries('originals')) / 1e6:.1f} MB) "
              f"filed through the evidence pipeline, 100 audit events, in {time.perf_counter() - started:.1f} s")
        upload = upload_cost(app)
        report = measure(app, store, number, runs)
        decoded = measure(app, store, number, runs, print_copies=False)
        original_preview = pdf._preview
        pdf._preview = full_size_preview
        try:
            baseline = measure(app, store, number, max(3, runs // 3))
        finally:
            pdf._preview = original_preview
        db.engine(app).dispose()
    ok = report["median_s"] < TARGET_SECONDS and report["bytes"] < TARGET_BYTES
    print(f"upload: inspecting one 12-megapixel photo {upload['inspection_s'] * 1000:.0f} ms, "
          f"of which its print copy {upload['print_copy_s'] * 1000:.0f} ms")
    for name, figures in (("report (print copies made at upload)", report),
                          ("same case, evidence without print copies (draft-decoded in the report)", decoded),
                          ("baseline (full-size photos)", baseline)):
        print(f"{name}: {figures['bytes'] / 1e6:.2f} MB, cold {figures['cold_s']:.3f} s, "
              f"warm median {figures['median_s']:.3f} s, p95 {figures['p95_s']:.3f} s "
              f"(CPU median {figures['cpu_median_s']:.3f} s)")
    print(f"targets: warm < {TARGET_SECONDS} s and size < {TARGET_BYTES / 1e6} MB: {'met' if ok else 'NOT met'}")
    print(json.dumps({"bench": "report", "runs": runs, "cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2),
                      "warm_median_s": round(report["median_s"], 4), "warm_p95_s": round(report["p95_s"], 4),
                      "warm_cpu_median_s": round(report["cpu_median_s"], 4), "cold_s": round(report["cold_s"], 4),
                      "bytes": report["bytes"],
                      "without_print_copies_warm_median_s": round(decoded["median_s"], 4),
                      "without_print_copies_warm_p95_s": round(decoded["p95_s"], 4),
                      "without_print_copies_bytes": decoded["bytes"],
                      "baseline_warm_median_s": round(baseline["median_s"], 4), "baseline_bytes": baseline["bytes"],
                      "upload_inspection_s": round(upload["inspection_s"], 4),
                      "upload_print_copy_s": round(upload["print_copy_s"], 4),
                      "target_s": TARGET_SECONDS, "target_bytes": TARGET_BYTES, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
