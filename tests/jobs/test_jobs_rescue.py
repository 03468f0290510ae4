"""Lost jobs come back (``jobs.rescue``): lost between the commit and the queue, or in a killed worker."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sample_tasks import copy_title, stall_once
from waiting import finished, runs, wait_for
from sqlalchemy import update

from support import db, jobs
from support.jobs.rescue import MAX_RESCUES, rescue, rescue_lost_jobs
from support.models import CannedReply, JobRun, JobState, utcnow

ROOT = Path(__file__).resolve().parents[2]


def _reply(session, title: str) -> int:
    reply = CannedReply(key=f"{title.lower()}-{uuid.uuid4().hex[:6]}", language="en", title=title, body="…")
    session.add(reply)
    session.flush()
    return reply.id


def _lost(session, task, *args, minutes_ago: float) -> JobRun:
    """The row ``enqueue_after_commit`` writes, committed by a process that died before the hand-off."""
    run = JobRun(task_id=uuid.uuid4().hex, name=task.name, args=list(args),
                 queued_at=utcnow() - timedelta(minutes=minutes_ago))
    session.add(run)
    session.flush()
    return run


def _rescue(app, **minutes) -> list[str]:
    with app.app_context(), db.transaction(app) as session:
        return [run.task_id for run in rescue(session, queued_minutes=minutes.get("queued", 10),
                                              running_minutes=minutes.get("running", 30),
                                              silent_seconds=minutes.get("silent_seconds", 120))]


def test_a_job_lost_before_the_queue_is_sent_again_once_and_runs(app, queue_backend, worker, tmp_path):
    with app.app_context(), db.transaction(app) as session:
        lost = _lost(session, copy_title, _reply(session, "Lost on its way"), str(tmp_path / "lost"), minutes_ago=11)
        fresh = _lost(session, copy_title, _reply(session, "Maybe still on its way"), str(tmp_path / "fresh"),
                      minutes_ago=1)
        waiting = jobs.enqueue_after_commit(session, copy_title, _reply(session, "Waiting in line"),
                                            str(tmp_path / "waiting"))
    with app.app_context(), db.transaction(app) as session:  # on the queue for long: busy, not lost
        session.exec(update(JobRun).where(JobRun.id == waiting.id).values(queued_at=utcnow() - timedelta(hours=1)))
    assert _rescue(app) == [lost.task_id]
    assert _rescue(app) == []  # queued again: now on the queue, so a second rescue (another worker) sends nothing
    assert jobs.engine(app).huey.pending_count() == 2
    with worker():
        done = finished(app, 2)
    assert (tmp_path / "lost").read_text() == "Lost on its way" and (tmp_path / "waiting").exists()
    assert not (tmp_path / "fresh").exists()
    by_id = {run.task_id: run for run in done}
    assert (by_id[lost.task_id].state, by_id[lost.task_id].attempts) == (JobState.done, 1)
    assert by_id[lost.task_id].error.startswith("rescued: not on the queue")
    assert (by_id[waiting.task_id].state, by_id[waiting.task_id].attempts) == (JobState.done, 1)
    assert by_id[fresh.task_id].state == JobState.queued


def test_a_job_the_queue_refused_is_sent_again(app, runner, worker, tmp_path):
    with app.app_context(), db.transaction(app) as session:
        run = _lost(session, copy_title, _reply(session, "Refused"), str(tmp_path / "t"), minutes_ago=0)
        session.exec(update(JobRun).where(JobRun.id == run.id)
                     .values(state=JobState.failed, error="not queued: ConnectionError: redis is down"))
        done_once = _lost(session, copy_title, _reply(session, "Really failed"), str(tmp_path / "u"), minutes_ago=60)
        session.exec(update(JobRun).where(JobRun.id == done_once.id)
                     .values(state=JobState.failed, attempts=1, error="RuntimeError: not a lost job"))
    result = runner.invoke(args=["jobs", "rescue"])  # the operators' command, as the worker runs it
    assert result.exit_code == 0 and json.loads(result.output) == {"rescued": 1}  # a job that ran and failed waits for an admin
    with worker():
        finished(app, 1, names={copy_title.name}) and wait_for(lambda: (tmp_path / "t").exists(), "the job")
    assert (tmp_path / "t").read_text() == "Refused" and not (tmp_path / "u").exists()


def _worker_process(app, **settings) -> subprocess.Popen:
    """``flask worker`` in a process of its own, as deployed (one thread, no periodic tasks)."""
    config = app.config
    environment = {**os.environ, "RD_ENV": "testing", "SECRET_KEY": "test-secret",
                   **{name: str(config[name]) for name in ("DATABASE_URL", "UPLOAD_DIR", "MAIL_OUTBOX_DIR",
                                                           "JOBS_NAME")},
                   "INSTANCE_PATH": app.instance_path, "JOBS_URL": config["JOBS_URL"] or "",
                   **{name: str(value) for name, value in settings.items()}}
    program = ("import sys; sys.path.insert(0, 'tests/jobs'); import sample_tasks; from flask.cli import main; "
               "sys.argv = ['flask', '--app', 'app', 'worker', '--workers', '1', '--no-periodic']; main()")
    return subprocess.Popen([sys.executable, "-c", program], cwd=ROOT, env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _killed_while_running(app, tmp_path, **settings) -> tuple[str, JobRun]:
    """A stalling job started by a worker process, which is then SIGKILLed: its task id, its row."""
    process = _worker_process(app, **settings)
    try:
        with app.app_context():
            task_id = jobs.enqueue(stall_once, str(tmp_path))
        wait_for(lambda: (tmp_path / "started").exists(), "the first run to start")
        wait_for(lambda: [run for run in runs(app) if run.state == JobState.running], "the running row")
        if settings:  # the worker says the job still runs while it does
            started = runs(app)[0].alive_at
            wait_for(lambda: runs(app)[0].alive_at > started, "a heartbeat")
    finally:
        process.send_signal(signal.SIGKILL)  # no goodbye: the row stays "running" and the queue no longer has it
        process.wait(timeout=30)
    [killed] = runs(app)
    assert (killed.state, jobs.engine(app).huey.pending_count()) == (JobState.running, 0)
    return task_id, killed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the queue is what varies here
def test_a_job_whose_worker_was_killed_comes_back(app, app_config, queue_backend, worker, tmp_path):
    task_id, killed = _killed_while_running(app, tmp_path)
    assert _rescue(app) == []  # running for a short while: maybe just slow
    with app.app_context(), db.transaction(app) as session:  # half an hour later
        session.exec(update(JobRun).where(JobRun.id == killed.id).values(started_at=utcnow() - timedelta(minutes=31)))
    with worker(), app.app_context():
        jobs.enqueue(rescue_lost_jobs)
        wait_for(lambda: (tmp_path / "done").exists(), "the rescued run")
        [back] = wait_for(lambda: [run for run in runs(app) if run.task_id == task_id and run.state == JobState.done],
                          "the rescued job's row")
    assert back.attempts == 2 and back.error.startswith("rescued: its worker was lost while it ran")
    assert (tmp_path / "done").read_text() == "x"


def test_a_job_that_keeps_killing_its_worker_is_left_to_an_admin(app, tmp_path):
    with app.app_context(), db.transaction(app) as session:
        run = _lost(session, stall_once, str(tmp_path), minutes_ago=120)
        session.exec(update(JobRun).where(JobRun.id == run.id).values(
            state=JobState.running, attempts=stall_once.retries + 1 + MAX_RESCUES,
            started_at=utcnow() - timedelta(hours=1)))
    assert _rescue(app) == []
    [given_up] = runs(app)
    assert given_up.state == JobState.failed and given_up.error.startswith(f"lost {MAX_RESCUES} times")
    assert jobs.engine(app).huey.pending_count() == 0


def test_a_killed_workers_job_is_known_lost_once_its_heartbeat_stops(app, tmp_path):
    """Minutes, not half an hour: the worker marks its running job alive every beat; once it is
    killed the row goes silent, and a rescue after the silence sends the job again."""
    task_id, killed = _killed_while_running(app, tmp_path, JOBS_ALIVE_SECONDS=0.2)
    last_beat = killed.alive_at
    assert _rescue(app, silent_seconds=60) == []  # silent for less than a minute: its worker may be alive
    time.sleep(0.6)  # three beats a live worker would have made
    assert runs(app)[0].alive_at == last_beat  # nobody beats for it any more
    assert _rescue(app, silent_seconds=0.5) == [task_id]  # started a moment ago, yet known lost
    [back] = runs(app)
    assert back.state == JobState.queued and back.error.startswith("rescued: its worker was lost while it ran")


def test_a_slow_job_whose_worker_is_alive_is_left_running(app, tmp_path):
    """The heartbeat thread of a live worker keeps a long job from being sent twice."""
    heartbeat = jobs.engine(app).heartbeat
    with app.app_context(), db.transaction(app) as session:
        run = _lost(session, stall_once, str(tmp_path), minutes_ago=10)
        session.exec(update(JobRun).where(JobRun.id == run.id).values(
            state=JobState.running, attempts=1, started_at=utcnow() - timedelta(minutes=5),
            alive_at=utcnow() - timedelta(minutes=5)))
    assert heartbeat.beat() == 0  # not one of this process's jobs
    heartbeat.started(run.task_id)
    assert heartbeat.beat() == 1
    assert _rescue(app, silent_seconds=60) == []
    heartbeat.ended(run.task_id)
    assert heartbeat.beat() == 0


@pytest.mark.parametrize("settings", [{"JOBS_ALIVE_SECONDS": "90"}, {"JOBS_ALIVE_SECONDS": "0"},
                                      {"JOBS_ALIVE_SECONDS": "soon"},
                                      {"JOBS_ALIVE_SECONDS": "30", "JOBS_LOST_SILENT_SECONDS": "45"}])
def test_a_heartbeat_slower_than_the_silence_that_means_lost_is_refused(monkeypatch, tmp_path, settings):
    """A worker that beats less often than the rescue expects would have its live jobs sent twice."""
    from support import create_app
    from support.config import ConfigError

    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="JOBS_ALIVE_SECONDS"):
        create_app({"RD_ENV": "testing", "SECRET_KEY": "s", "INSTANCE_PATH": str(tmp_path),
                    "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
