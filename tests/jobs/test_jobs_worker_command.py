"""``flask --app app worker`` as deployments run it: a process of its own, stopped by TERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import finished
from sent_mail import read_outbox

from support import db, jobs, mail
from support.models import Channel, JobState, OutgoingMessage

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the queue is what varies here

def test_the_worker_command_runs_a_committed_job_and_stops_on_term(app, app_config, queue_backend):
    config = app.config
    environment = {**os.environ, "RD_ENV": "testing", "SECRET_KEY": "test-secret", "FLASK_APP": "app",
                   **{name: str(config[name]) for name in ("DATABASE_URL", "UPLOAD_DIR", "MAIL_OUTBOX_DIR",
                                                           "JOBS_NAME")},
                   "INSTANCE_PATH": app.instance_path, "JOBS_URL": config["JOBS_URL"] or ""}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--workers", "1",
                               "--no-periodic"], cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        with app.app_context(), db.transaction(app) as session:
            session.add(OutgoingMessage(channel=Channel.email, recipient="from-worker@example.test",
                                        subject="Hello", body="Delivered by the worker process."))
            jobs.enqueue_after_commit(session, mail.deliver_due)
        [run] = finished(app)
        assert (run.name, run.state) == (mail.deliver_due.name, JobState.done)
        assert [sent.to for sent in read_outbox(app_config)] == ["from-worker@example.test"]
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output
    assert "Huey consumer started" in output and mail.deliver_due.name in output
