"""Retention: cases closed more than RETENTION_DAYS ago are erased, one transaction each, by
the daily job or ``retention run``; idempotent, and safe with two workers at once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from support import create_app, db, jobs, retention
from support.config import ConfigError
from support.models import AuditEvent, Case, CaseStatus, utcnow


def _closed_days_ago(app, make_case, days: int) -> str:
    case, _token = make_case(status=CaseStatus.closed)
    with app.app_context(), db.transaction(app) as session:
        session.get(Case, case.id).closed_at = utcnow() - timedelta(days=days)
    return case.number


def _erased(app) -> list[str]:
    with app.app_context(), db.transaction(app) as session:
        return sorted(session.exec(select(Case.number).where(Case.erased_at.is_not(None))))


def _erasure_events(app) -> list[str]:
    with app.app_context(), db.transaction(app) as session:
        return sorted(session.exec(select(AuditEvent.subject_id).where(AuditEvent.action == "case.erased")))


@pytest.mark.parametrize("days", [0, -5])
def test_zero_or_negative_retention_is_refused(app_config, days):
    with pytest.raises(ConfigError, match="RETENTION_DAYS"):
        create_app({**app_config, "RETENTION_DAYS": days})


def test_run_erases_what_is_due_and_nothing_else(app, runner, make_case):
    old = [_closed_days_ago(app, make_case, 400), _closed_days_ago(app, make_case, 366)]
    recent = _closed_days_ago(app, make_case, 364)
    still_open, _ = make_case(status=CaseStatus.in_review)

    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0 and all(number in dry.output for number in old) and recent not in dry.output
    assert _erased(app) == []

    done = runner.invoke(args=["retention", "run"])
    assert done.exit_code == 0 and '"retention_days": 365' in done.output, done.output
    assert _erased(app) == sorted(old)
    assert runner.invoke(args=["retention", "run"]).output.count("RD-") == 0  # a second run finds nothing
    assert _erasure_events(app) == sorted(old)
    assert still_open.number not in _erased(app) and recent not in _erased(app)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_the_setting_decides_and_the_daily_job_runs_it(app_config, make_case, app):
    number = _closed_days_ago(app, make_case, 40)
    assert retention.erase_expired.name in {name for name, task in jobs.registered().items() if task.schedule}
    with app.app_context():
        assert retention.erase_expired() == 0  # 365 days by default
    app.config["RETENTION_DAYS"] = 30
    with app.app_context():
        assert retention.erase_expired() == 1
    assert _erased(app) == [number]


def test_a_case_reopened_before_its_turn_is_skipped(app, make_case):
    number = _closed_days_ago(app, make_case, 400)
    with app.app_context(), db.transaction(app) as session:
        session.exec(select(Case).where(Case.number == number)).one().status = CaseStatus.new
    with app.app_context():
        outcome = retention.run(days=365)
    assert outcome.erased == [] and _erased(app) == []


def test_two_workers_at_once_erase_each_case_once(app, make_case):
    due = sorted(_closed_days_ago(app, make_case, 400 + n) for n in range(4))
    start, outcomes, errors = threading.Barrier(2), [], []

    def worker():
        try:
            with app.app_context():
                start.wait()
                outcomes.append(retention.run(days=365))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(number for outcome in outcomes for number in outcome.erased) == due
    assert _erasure_events(app) == due
