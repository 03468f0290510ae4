"""The job engine for real: a consumer runs what a committed transaction queued, nothing else."""
from __future__ import annotations

import json

import pytest
from sample_tasks import copy_title, fragile
from waiting import finished, runs, wait_for
from sqlmodel import select

from support import db, jobs
from support.models import AuditEvent, CannedReply, JobState


def add_reply(session, title: str) -> int:
    reply = CannedReply(key=title.lower(), language="en", title=title, body="…")
    session.add(reply)
    session.flush()
    return reply.id


def test_a_committed_job_runs_on_the_worker(app, queue_backend, worker, tmp_path):
    target = tmp_path / "title.txt"
    with app.app_context(), db.transaction(app) as session:
        reply_id = add_reply(session, "Committed with its job")
        run = jobs.enqueue_after_commit(session, copy_title, reply_id, str(target))
        assert jobs.engine(app).huey.pending_count() == 0  # not before the commit
    assert jobs.engine(app).huey.pending_count() == 1
    with worker():
        [done] = finished(app)
    assert target.read_text() == "Committed with its job"
    assert (done.task_id, done.name, done.args) == (run.task_id, copy_title.name, [reply_id, str(target)])
    assert (done.state, done.attempts, done.error) == (JobState.done, 1, None)
    assert done.started_at >= done.queued_at and done.finished_at >= done.started_at


def test_a_rolled_back_transaction_queues_nothing(app, worker, tmp_path):
    with pytest.raises(RuntimeError), app.app_context(), db.transaction(app) as session:
        jobs.enqueue_after_commit(session, copy_title, add_reply(session, "Rolled back"), str(tmp_path / "a"))
        raise RuntimeError("the request failed")
    with app.app_context(), db.transaction(app) as session:  # a savepoint's commit is not the commit
        with session.begin_nested():
            jobs.enqueue_after_commit(session, copy_title, add_reply(session, "Kept"), str(tmp_path / "b"))
        assert jobs.engine(app).huey.pending_count() == 0
        session.rollback()
    with app.app_context(), db.transaction(app) as session:  # a savepoint's rollback drops what it queued
        kept = jobs.enqueue_after_commit(session, copy_title, add_reply(session, "Outer"), str(tmp_path / "c"))
        with pytest.raises(RuntimeError), session.begin_nested():
            jobs.enqueue_after_commit(session, copy_title, add_reply(session, "Inner"), str(tmp_path / "d"))
            raise RuntimeError("this part failed")
    assert jobs.engine(app).huey.pending_count() == 1 and [run.task_id for run in runs(app)] == [kept.task_id]
    jobs.engine(app).huey.flush()
    with app.app_context(), db.transaction(app) as session:
        session.delete(session.get(type(kept), kept.id))
    assert jobs.engine(app).huey.pending_count() == 0 and runs(app) == []
    with worker(), app.app_context():  # and a job queued later is the only one that runs
        jobs.enqueue(fragile, str(tmp_path))
        [only] = finished(app)
    assert only.name == fragile.name and not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_what_the_queue_could_not_replay_is_refused_when_queued(app):
    with app.app_context(), db.transaction(app) as session, pytest.raises(TypeError):
        jobs.enqueue_after_commit(session, copy_title, CannedReply(key="k", language="en", title="t", body="b"), "x")


def test_a_failing_job_is_retried_then_kept_failed_and_a_retry_finishes_it(app, queue_backend, worker, runner, tmp_path):
    (tmp_path / "broken").touch()
    with worker(), app.app_context():
        jobs.enqueue(fragile, str(tmp_path))
        [failed] = finished(app)
        assert (failed.state, failed.attempts) == (JobState.failed, 2)  # one retry after the first failure
        assert failed.error.startswith("RuntimeError: the mail server said no") and "Traceback" in failed.error

        listed = [json.loads(line) for line in runner.invoke(args=["jobs", "list", "--state", "failed"]).output.splitlines()]
        assert [(job["id"], job["error"]) for job in listed] == [(failed.id, "RuntimeError: the mail server said no")]

        (tmp_path / "broken").unlink()  # the cause is fixed: the same work runs again
        result = runner.invoke(args=["jobs", "retry", str(failed.id)])
        assert result.exit_code == 0, result.output
        wait_for(lambda: runs(app)[0].state == JobState.done, "the retried job")
    [done] = runs(app)
    assert (done.id, done.task_id, done.attempts) == (failed.id, failed.task_id, 3)
    assert (tmp_path / "done").read_text() == "ok" and (tmp_path / "attempts").read_text() == "xxx"
    with app.app_context(), db.transaction(app) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "job.retried")).all()
    assert (event.subject_id, event.actor_type, event.after["name"]) == (str(done.id), "cli", fragile.name)

    again = runner.invoke(args=["jobs", "retry", str(done.id)])  # a done job is not run twice
    assert again.exit_code == 1 and "not a failed job" in again.output
