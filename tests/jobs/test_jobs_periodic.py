"""The desk's scheduled work, each task run through the queue by a real consumer."""
from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

from waiting import finished
from sent_mail import read_outbox
from sqlalchemy import func, update
from sqlmodel import select
from unlocks import scheduled_unlock

from support import actions, audit, db, jobs, mail, retention, witness
from support.intake import staging
from support.evidence.analysis import run as analysis_run
from support.jobs import cli as jobs_cli
from support.jobs import rescue
from support.models import (Action, ActionStatus, AuditCheckpoint, Case, CaseStatus, Channel, JobRun, JobState,
                            OutgoingMessage, utcnow)
from support.review import cli as review_cli


def test_each_periodic_task_does_its_job_through_the_queue(app, app_config, worker, make_agent, make_account,
                                                           make_device, make_case):
    now = utcnow()
    action_id, *_ = scheduled_unlock(app, make_agent, make_account, make_device)
    waiting, _token = make_case(status=CaseStatus.waiting_on_claimant)
    old = now - timedelta(days=30)
    with app.app_context(), db.transaction(app) as session:
        session.exec(update(Action).where(Action.id == action_id).values(not_before=now - timedelta(minutes=1)))
        session.exec(update(Case).where(Case.number == waiting.number)
                     .values(waiting_since=now - timedelta(days=app.config["AUTO_CLOSE_AFTER_DAYS"], hours=1)))
        # a message whose first attempt failed and whose pause is over (queued without the commit hook)
        session.add(OutgoingMessage(channel=Channel.email, recipient="later@example.test", subject="Retried",
                                    body="Sent by the worker.", attempts=1, last_error="ConnectionRefusedError"))
        session.add_all([JobRun(task_id="old-done", name="x", state=JobState.done, finished_at=old),
                         JobRun(task_id="old-failed", name="x", state=JobState.failed, finished_at=old),
                         JobRun(task_id="old-periodic", name="x", periodic=True, state=JobState.failed,
                                finished_at=old)])
    abandoned = Path(app.config["UPLOAD_DIR"], "originals", "ab", "ab" * 32)
    fresh = Path(app.config["UPLOAD_DIR"], "originals", "cd", "cd" * 32)
    for path in (abandoned, fresh):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"staged, never filed")
    os.utime(abandoned, (time.time() - 3 * 86400,) * 2)

    periodic = [actions.run_due_actions, mail.deliver_due, review_cli.sweep_cases,
                staging.purge_abandoned, jobs_cli.prune_history, rescue.rescue_lost_jobs,
                analysis_run.requeue_stalled_analysis, retention.erase_expired]
    everything = {witness.checkpoint_when_due.name} | {task.name for task in periodic}
    assert everything == {name for name, task in jobs.registered().items() if task.schedule}
    with worker(), app.app_context():
        for task in periodic:
            jobs.enqueue(task)
        ran = finished(app, len(periodic), names={task.name for task in periodic})

    assert [(run.name, run.state, run.error) for run in ran] == [(task.name, JobState.done, None) for task in periodic]
    with app.app_context(), db.transaction(app) as session:
        assert session.get(Action, action_id).status == ActionStatus.executed
        assert session.exec(select(Case.status).where(Case.number == waiting.number)).one() == CaseStatus.closed
        assert session.exec(select(OutgoingMessage)).all() == []
        assert sorted(session.exec(select(JobRun.task_id).where(JobRun.task_id.like("old-%")))) == ["old-failed"]
    assert "later@example.test" in {sent.to for sent in read_outbox(app_config)}
    assert not abandoned.exists() and fresh.exists()


def test_the_worker_signs_a_checkpoint_once_the_minutes_have_passed(app, worker, make_case):
    make_case()  # the first events: the app signs a checkpoint with them
    make_case()  # events after it, too few to sign another (AUDIT_CHECKPOINT_EVERY)
    with app.app_context(), db.transaction(app) as session:
        head, latest = audit.head(session), audit.latest_checkpoint(session)
    assert head.seq > latest.seq
    app.extensions["audit_policy"].minutes = 0  # as if AUDIT_CHECKPOINT_MINUTES had passed since
    with worker(), app.app_context():
        jobs.enqueue(witness.checkpoint_when_due)
        jobs.enqueue(witness.checkpoint_when_due)  # nothing new since the first: it signs nothing
        finished(app, 2)
    with app.app_context(), db.transaction(app) as session:
        signed = session.exec(select(AuditCheckpoint).where(AuditCheckpoint.id > latest.id)).all()
    assert [checkpoint.seq for checkpoint in signed] == [head.seq]
    witnessed = [json.loads(line) for line in Path(app.config["AUDIT_WITNESS_FILE"]).read_text().splitlines()]
    assert (witnessed[-1]["seq"], witnessed[-1]["signature"]) == (head.seq, signed[0].signature)
