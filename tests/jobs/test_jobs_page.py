"""``/admin/jobs``: a failed job with its error, retried by an admin (audited); nobody else may."""
from __future__ import annotations

import re

import pytest
from sample_tasks import fragile
from waiting import finished, runs, wait_for
from sqlmodel import select

from support import create_app, db, jobs
from support.models import AuditEvent, JobState, Role


def test_a_failed_job_shows_its_error_and_an_admins_retry_finishes_it(app, client, login, worker, tmp_path):
    admin = login(Role.admin)
    (tmp_path / "broken").touch()
    with worker(), app.app_context():
        jobs.enqueue(fragile, str(tmp_path))
        [failed] = finished(app)

        page = client.get("/admin/jobs")
        assert page.status_code == 200
        row = re.search(rf'<tr id="job-{failed.id}">.*?</tr>', page.text, re.S).group(0)
        assert "RuntimeError: the mail server said no" in row and "Traceback" in row and "failed" in row
        assert f'action="/admin/jobs/{failed.id}/retry"' in row
        assert 'href="/admin/jobs"' in page.text  # in the staff navigation

        (tmp_path / "broken").unlink()
        response = client.post(f"/admin/jobs/{failed.id}/retry")
        assert response.status_code == 303 and response.location.endswith("/admin/jobs")
        wait_for(lambda: runs(app)[0].state == JobState.done, "the retried job")

    assert (tmp_path / "done").read_text() == "ok"
    page = client.get("/admin/jobs")
    assert f'action="/admin/jobs/{failed.id}/retry"' not in page.text  # done: no button any more
    assert re.search(rf'<table id="jobs-finished">.*<tr id="job-{failed.id}">', page.text, re.S)
    with app.app_context(), db.transaction(app) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "job.retried")).all()
    assert (event.actor_type, event.actor_id, event.subject_id) == ("agent", str(admin.id), str(failed.id))

    replay = client.post(f"/admin/jobs/{failed.id}/retry")  # the same button pressed again: nothing runs twice
    assert replay.status_code == 303 and jobs.engine(app).huey.pending_count() == 0
    assert "is not failed" in client.get("/admin/jobs").text
    with app.app_context(), db.transaction(app) as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "job.retried")).all()) == 1


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor, Role.auditor])
def test_only_admins_see_the_jobs_or_retry_them(app, client, login, role, tmp_path):
    with app.app_context(), db.transaction(app) as session:
        run = jobs.enqueue_after_commit(session, fragile, str(tmp_path))
    jobs.engine(app).huey.flush()
    with app.app_context(), db.transaction(app) as session:
        session.get(type(run), run.id).state = JobState.failed
    assert client.get("/admin/jobs").status_code == 302  # signed out: to the sign-in page
    login(role)
    assert client.get("/admin/jobs").status_code == 403
    assert client.post(f"/admin/jobs/{run.id}/retry").status_code == 403
    assert 'href="/admin/jobs"' not in client.get("/queue").text
    assert runs(app)[0].state == JobState.failed and jobs.engine(app).huey.pending_count() == 0


def test_a_retry_without_the_csrf_token_is_refused(app_config, make_agent, tmp_path):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    admin = make_agent(Role.admin)
    with app.app_context(), db.transaction(app) as session:
        run = jobs.enqueue_after_commit(session, fragile, str(tmp_path))
    jobs.engine(app).huey.flush()
    with app.app_context(), db.transaction(app) as session:
        session.get(type(run), run.id).state = JobState.failed
    client = app.test_client()
    sign_in = client.get("/agent/sign-in").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', sign_in).group(1)
    assert client.post("/agent/sign-in", data={"email": admin.email, "password": "correct horse battery",
                                               "csrf_token": token}).status_code == 302
    assert client.post(f"/admin/jobs/{run.id}/retry").status_code == 400  # a forged cross-site form
    assert runs(app)[0].state == JobState.failed and jobs.engine(app).huey.pending_count() == 0
    db.engine(app).dispose()
