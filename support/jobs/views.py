"""``/admin/jobs``: what the worker is doing, what failed and why, and a retry button (admins only)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlmodel import select

from .. import db
from ..models import JobRun, JobState, Role
from ..navigation import staff_link
from ..web import agent_actor, origin, roles_required
from . import engine, history

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")
staff_link("jobs.index", _l("Jobs"), Role.admin)

#: the rows each part of the page shows, newest first
SHOWN = 100
STATE_WORDS = JobState.__titles__


@bp.get("")
@roles_required(Role.admin)
def index():
    session = db.session()
    newest = select(JobRun).order_by(JobRun.id.desc()).limit(SHOWN)
    counts = dict(session.exec(select(JobRun.state, func.count()).group_by(JobRun.state)).all())
    return render_template(
        "jobs/index.html", counts={state: counts.get(state, 0) for state in JobState}, words=STATE_WORDS,
        failed=session.exec(newest.where(JobRun.state == JobState.failed)).all(),
        active=session.exec(newest.where(JobRun.state.in_((JobState.queued, JobState.running,
                                                          JobState.retrying)))).all(),
        finished=session.exec(newest.where(JobRun.state.in_((JobState.done, JobState.skipped))).limit(20)).all(),
        waiting=_waiting())


def _waiting() -> int | None:
    """Jobs in the queue itself (None when it cannot be reached: the page still shows the history)."""
    try:
        return engine().huey.pending_count()
    except Exception:
        current_app.logger.exception("jobs page: the queue cannot be reached")
        return None


@bp.post("/<int:run_id>/retry")
@roles_required(Role.admin)
def retry(run_id: int):
    try:
        run = history.retry(db.session(), run_id, actor=agent_actor(), origin=origin())
    except history.NotRetryable:
        flash(_("Job %(id)s is not failed (any more): nothing was queued.", id=run_id), "error")
    else:
        flash(_("Job %(id)s is queued again.", id=run.id), "success")
    return redirect(url_for("jobs.index"), 303)
