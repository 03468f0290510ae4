"""``/metrics`` in the Prometheus text format.

Two kinds of figures, chosen so several gunicorn workers answer alike:

- what the desk's database and queue say (cases by status, SLA breaches, jobs, undelivered
  mail, audit head): computed at scrape time by ``DeskCollector``, so every process gives
  the same answer and nothing has to be shared between them;
- request latency and counts, which each process sees only for itself: kept per process,
  and, when ``PROMETHEUS_MULTIPROC_DIR`` names a folder (set it for gunicorn, see
  ``support/ops/gunicorn.py``), written there by every worker and summed at scrape time
  by prometheus_client's multiprocess collector.

Labels stay bounded: the endpoint is Flask's endpoint name (``unmatched`` when no rule
matched), never the path; unusual methods read ``other``.
"""
from __future__ import annotations

import logging
import os

from flask import Flask, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, text
from sqlmodel import Session, select

from .. import db, jobs
from ..models import (OPEN_CASES_SQL, AuditEvent, AuditVerification, Case, CaseStatus, CaseStatusCount, JobRun,
                      JobState, OutgoingMessage, utcnow)

log = logging.getLogger("recovery_desk.metrics")

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: request latency buckets, seconds
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_requests = CollectorRegistry()
REQUEST_SECONDS = Histogram("recovery_desk_request_duration_seconds", "Time to answer a request, by endpoint",
                            ["endpoint", "method"], buckets=BUCKETS, registry=_requests)
REQUESTS = Counter("recovery_desk_requests", "Requests answered, by endpoint and status",
                   ["endpoint", "method", "status"], registry=_requests)


def observe(status: int, duration: float) -> None:
    """Count the current request (bounded labels, see the module's docstring)."""
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
    method = request.method if request.method in METHODS else "other"
    REQUEST_SECONDS.labels(endpoint, method).observe(duration)
    REQUESTS.labels(endpoint, method, str(status)).inc()


class DeskCollector:
    """The desk's own figures, read from the database and the queue when scraped."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        with Session(db.reader(db.engine(self.app))) as session:
            yield from self._cases(session)
            yield from self._jobs(session)
            yield from self._mail(session)
            yield from self._audit(session)
        waiting = self._waiting()
        if waiting is not None:
            yield GaugeMetricFamily("recovery_desk_jobs_waiting", "Jobs waiting in the queue itself (Huey)",
                                    value=waiting)

    @staticmethod
    def _cases(session: Session):
        counts = dict(session.exec(select(CaseStatusCount.status, CaseStatusCount.count)).all())
        cases = GaugeMetricFamily("recovery_desk_cases", "Cases by status (the queue's counters)", labels=["status"])
        for status in CaseStatus:
            cases.add_metric([status.value], counts.get(status.value, 0))
        yield cases
        breached = session.exec(select(func.count()).select_from(Case).where(
            text(OPEN_CASES_SQL), Case.sla_due_at < utcnow())).one()
        yield GaugeMetricFamily("recovery_desk_sla_breached_cases", "Open cases past their SLA due time",
                                value=breached)

    @staticmethod
    def _jobs(session: Session):
        counts = dict(session.exec(select(JobRun.state, func.count()).group_by(JobRun.state)).all())
        runs = GaugeMetricFamily("recovery_desk_jobs", "Jobs in the history, by state (failed ones wait for a retry)",
                                 labels=["state"])
        for state in JobState:
            runs.add_metric([state.value], counts.get(state, 0))
        yield runs

    @staticmethod
    def _mail(session: Session):
        undelivered = GaugeMetricFamily("recovery_desk_mail_undelivered", "Email and SMS queued and not delivered yet",
                                        labels=["channel", "failed"])
        by_channel = select(OutgoingMessage.channel, func.count()).group_by(OutgoingMessage.channel)
        waiting = dict(session.exec(by_channel).all())
        failed = dict(session.exec(by_channel.where(OutgoingMessage.attempts > 0)).all())
        for channel, count in waiting.items():
            name = getattr(channel, "value", channel)
            undelivered.add_metric([name, "yes"], failed.get(channel, 0))
            undelivered.add_metric([name, "no"], count - failed.get(channel, 0))
        yield undelivered

    @staticmethod
    def _audit(session: Session):
        head = session.exec(select(func.max(AuditEvent.seq))).one() or 0
        yield GaugeMetricFamily("recovery_desk_audit_head_sequence", "Sequence number of the newest audit event",
                                value=head)
        latest = session.exec(select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)).first()
        if latest is not None:
            yield GaugeMetricFamily("recovery_desk_audit_verified_sequence",
                                    "Events found sound by the latest verification of the chain", value=latest.seq)
            yield GaugeMetricFamily("recovery_desk_audit_verification_ok",
                                    "1 when the latest verification found the chain intact", value=int(latest.ok))

    def _waiting(self) -> int | None:
        try:
            return jobs.engine(self.app).huey.pending_count()
        except Exception:  # the figures from the database still count; /readyz says what is down
            log.warning("metrics: the job queue cannot be reached", exc_info=True)
            return None


def exposition(app: Flask) -> bytes:
    """The text every process answers /metrics with."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        requests = CollectorRegistry()
        MultiProcessCollector(requests, path=folder)
    else:
        requests = _requests
    desk = CollectorRegistry()
    desk.register(DeskCollector(app))
    return generate_latest(requests) + generate_latest(desk)
