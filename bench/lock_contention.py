"""Lock contention: do slow uploads and a large report make other people wait?

Seeds a fresh SQLite database (or ``--database-url``): an agent, a case to write notes on,
four cases that take uploads, and a large case (``--evidence`` items, ``--messages``
messages, just under the report limits). Serves the app with gunicorn (real processes,
as in production), then times three everyday writes — an agent sign-in, an internal
note, a filing through the API — first on the idle server (the baseline), then while
four clients keep uploading PDFs that keep ``pdftoppm`` busy until its time limit and
one agent downloads the large case's report. Target: each write under 1 s under load.

    .venv/bin/python bench/lock_contention.py [--database-url URL] [--rounds 3]

Prints a table and ends with one JSON line. Not part of the test suite; it needs the
``requests`` package (installed with the dev extras).
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the repository, not bench/ (bench/queue.py shadows the stdlib's queue)
sys.path.insert(1, str(ROOT / "tests" / "intake"))

import requests  # noqa: E402
from hostile_pdfs import slow_page  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from support import agents, audit, cases, create_app, db, evidence, imei  # noqa: E402
from support.models import Case, CaseKind, CaseStatus, EvidenceKind, Role  # noqa: E402

TARGET_SECONDS = 1.0
PASSWORD = "bench-agent-password"
ACTOR = audit.Actor("cli", None, "bench")


def photo(seed: int, size=(1600, 1200)) -> bytes:
    picture = Image.new("RGB", size, (seed * 37 % 256, 120, 200 - seed % 200))
    draw = ImageDraw.Draw(picture)
    for step in range(0, size[0], 23):
        draw.line((step, 0, size[0] - step, size[1]), fill=((step + seed) % 256, 60, 90), width=5)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def claim(kind: CaseKind = CaseKind.locked_account) -> cases.Claim:
    return cases.Claim(kind=kind, claimant_name="Bench Claimant", contact_email="bench@example.test", language="en",
                       imei1=imei.generate(), hint_email="old@example.test")


def seed(config: dict, evidence_items: int, messages: int) -> dict:
    """Everything the scenario needs; returns the numbers and tokens."""
    app = create_app(config)
    db.upgrade(app)
    with app.test_request_context():
        with db.transaction(app) as session:
            agent = agents.create_agent(session, email="bench.agent@example.test", name="Bench Agent",
                                        role=Role.agent, password=PASSWORD, actor=ACTOR)
        with db.transaction(app) as session:
            noted, _ = cases.file_case(session, claim=claim(), config=app.config)
            cases.confirm_contact(session, noted)
        uploads = []
        for _ in range(4):
            with db.transaction(app) as session:
                case, token = cases.file_case(session, claim=claim(), config=app.config)
                cases.confirm_contact(session, case)
                uploads.append((case.number, token))
        with db.transaction(app) as session:
            large, _ = cases.file_case(session, claim=claim(CaseKind.device_unbind), config=app.config)
            cases.confirm_contact(session, large)
        pictures = [evidence.inspect(evidence.Upload(f"photo-{n}.jpg", photo(n), EvidenceKind.device_photo), app.config)
                    for n in range(12)]
        with db.transaction(app) as session:
            row = session.get(Case, large.id)
            for n in range(evidence_items):
                evidence.attach(session, case=row, upload=pictures[n % len(pictures)], uploaded_by="claimant",
                                config=app.config)
            for n in range(messages):
                cases.add_message(session, row, body=f"Message {n}: the claimant explains once more where the phone "
                                  "was bought and when.", actor=audit.Actor("claimant", row.number, "Bench Claimant"))
            cases.transition(session, row, CaseStatus.in_review, actor=ACTOR)
    db.engine(app).dispose()
    return {"agent": agent.email, "noted": noted.number, "uploads": uploads, "large": large.number}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(config: dict, port: int, workers: int) -> subprocess.Popen:
    factory = f"support:create_app({config!r})"
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(workers), "--timeout", "600",
                               "-b", f"127.0.0.1:{port}", factory], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("the server did not start")


class Desk:
    """The three timed writes, through HTTP as a browser and the API would send them."""

    def __init__(self, base: str, seeded: dict):
        self.base, self.seeded = base, seeded
        self.agent = requests.Session()
        assert self.sign_in(self.agent) == 302

    def sign_in(self, browser: requests.Session | None = None) -> int:
        browser = browser or requests.Session()
        return browser.post(f"{self.base}/agent/sign-in", allow_redirects=False, timeout=120,
                            data={"email": self.seeded["agent"], "password": PASSWORD}).status_code

    def note_form(self) -> dict:
        """The note form as the case page carries it (its version), loaded before the timed POST."""
        page = self.agent.get(f"{self.base}/cases/{self.seeded['noted']}", timeout=120).text
        version = re.search(r'name="version" value="(\d+)"', page).group(1)
        return {"body": "Checked the receipt against the shop.", "visibility": "internal", "version": version}

    def note(self, form: dict) -> int:
        return self.agent.post(f"{self.base}/cases/{self.seeded['noted']}/messages", allow_redirects=False,
                               timeout=120, data=form).status_code

    def filing(self) -> int:
        form = {"kind": "locked_account", "claimant_name": "Timed Claimant", "contact_email": "timed@example.test",
                "language": "en", "account_hint": "timed@example.test", "imei1": imei.generate(), "consent": "true",
                "evidence_kind": "id_document"}
        return requests.post(f"{self.base}/api/v1/cases", data=form, timeout=120,
                             files={"evidence": ("id.jpg", photo(99, (400, 300)), "image/jpeg")}).status_code


def timed(operation) -> tuple[float, int]:
    started = time.perf_counter()
    status = operation()
    return time.perf_counter() - started, status


def measure(desk: Desk, rounds: int) -> dict[str, list[float]]:
    figures = {"agent sign-in": [], "internal note": [], "filing (API)": []}
    expected = {"agent sign-in": 302, "internal note": 302, "filing (API)": 201}
    for _ in range(rounds):
        note_form = desk.note_form()  # the page the note is written on, loaded before the timed POST
        for name, operation in (("agent sign-in", desk.sign_in), ("internal note", functools.partial(desk.note, note_form)),
                                ("filing (API)", desk.filing)):
            seconds, status = timed(operation)
            assert status == expected[name], f"{name} answered {status}"
            figures[name].append(seconds)
    return figures


def load(base: str, seeded: dict, agent: requests.Session, stop: threading.Event, results: dict) -> list[threading.Thread]:
    """Four clients uploading slow PDFs until ``stop``; one agent downloading the large report once."""
    slow = slow_page()

    def uploader(number: str, token: str):
        statuses = []
        while not stop.is_set():
            started = time.perf_counter()
            response = requests.post(f"{base}/api/v1/cases/{number}/evidence", timeout=600,
                                     headers={"Authorization": f"Bearer {token}"},
                                     data={"evidence_kind": "receipt"},
                                     files={"evidence": ("receipt.pdf", slow, "application/pdf")})
            statuses.append((response.status_code, round(time.perf_counter() - started, 2)))
        results.setdefault("uploads", []).append(statuses)

    def report():
        seconds, status = timed(lambda: agent.get(f"{base}/cases/{seeded['large']}/report.pdf", timeout=900).status_code)
        results["report"] = (status, round(seconds, 2))

    threads = [threading.Thread(target=uploader, args=pair) for pair in seeded["uploads"]]
    threads.append(threading.Thread(target=report))
    for thread in threads:
        thread.start()
    return threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty database (default: a fresh SQLite file)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--evidence", type=int, default=120)
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=8)
    arguments = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="lock-contention-", dir=ROOT / "bench" / "out"
                                    if (ROOT / "bench" / "out").is_dir() else None))
    config = {"RD_ENV": "development", "SECRET_KEY": "bench-secret",
              "DATABASE_URL": arguments.database_url or f"sqlite:///{scratch / 'bench.sqlite'}",
              "INSTANCE_PATH": str(scratch / "instance"), "UPLOAD_DIR": str(scratch / "uploads"),
              "MAIL_OUTBOX_DIR": str(scratch / "outbox"), "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    started = time.perf_counter()
    seeded = seed(config, arguments.evidence, arguments.messages)
    print(f"seeded in {time.perf_counter() - started:.1f} s: large case {seeded['large']} with "
          f"{arguments.evidence} evidence items and {arguments.messages} messages")
    port = free_port()
    server = serve(config, port, arguments.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        desk = Desk(base, seeded)
        measure(desk, 1)  # warm-up: every worker imports lazily what it first needs
        idle = measure(desk, arguments.rounds)
        stop, results = threading.Event(), {}
        threads = load(base, seeded, desk.agent, stop, results)
        time.sleep(1.5)  # the uploads are in pdftoppm, the report is rendering
        loaded = measure(desk, arguments.rounds)
        report_running = "report" not in results
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait()

    backend = "PostgreSQL" if arguments.database_url else "SQLite"
    print(f"\n{backend}, {os.cpu_count()} cores, gunicorn {arguments.workers} workers, {arguments.rounds} rounds")
    print(f"{'write':<16} {'idle median s':>14} {'idle max s':>11} {'loaded median s':>16} {'loaded max s':>13}")
    summary = {}
    for name in idle:
        summary[name] = {"idle_median": round(statistics.median(idle[name]), 3), "idle_max": round(max(idle[name]), 3),
                         "loaded_median": round(statistics.median(loaded[name]), 3),
                         "loaded_max": round(max(loaded[name]), 3)}
        row = summary[name]
        print(f"{name:<16} {row['idle_median']:>14} {row['idle_max']:>11} {row['loaded_median']:>16} {row['loaded_max']:>13}")
    uploads = [item for client in results.get("uploads", []) for item in client]
    print(f"slow uploads: {len(uploads)} answered {sorted({status for status, _ in uploads})}, "
          f"each {min(s for _, s in uploads)}-{max(s for _, s in uploads)} s")
    print(f"large report: status {results['report'][0]} in {results['report'][1]} s"
          f" ({'still rendering' if report_running else 'finished'} when the timed writes ended)")
    meets = all(row["loaded_max"] < TARGET_SECONDS for row in summary.values())
    print(json.dumps({"backend": backend, "writes": summary, "report": results["report"],
                      "slow_uploads": len(uploads), "report_running_throughout": report_running,
                      "meets_target": meets}))


if __name__ == "__main__":
    main()
