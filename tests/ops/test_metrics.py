"""/metrics: the Prometheus text format (read back with prometheus_client's parser), bounded
labels, figures from the database, and only for METRICS_ALLOWED_NETWORKS, even behind a
proxy that a client tries to fool with X-Forwarded-For."""
from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support import audit, db
from support.models import Case, CaseStatus, JobRun, JobState, OutgoingMessage, Channel, utcnow

ACTOR = audit.Actor("cli", None, "tests")


def scrape(client, **environ) -> dict:
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1", **environ})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def test_the_desk_figures_come_from_the_database(app, client, make_case):
    make_case(status=CaseStatus.new)
    late, _token = make_case(status=CaseStatus.in_review)
    make_case(status=CaseStatus.closed)
    with app.app_context(), db.transaction(app) as session:
        case = session.get(Case, late.id)
        case.sla_due_at = utcnow() - timedelta(hours=1)
        session.add(JobRun(task_id="failed-one", name="t", state=JobState.failed))
        session.add(JobRun(task_id="queued-one", name="t", state=JobState.queued))
        session.add(OutgoingMessage(channel=Channel.email, recipient="someone@example.test", body="x", attempts=2))
        session.add(OutgoingMessage(channel=Channel.email, recipient="other@example.test", body="y"))
        head = audit.record(session, actor=ACTOR, action="test.event").seq
    samples = scrape(client)
    assert value(samples, "recovery_desk_cases", status="new") == 1
    assert value(samples, "recovery_desk_cases", status="in_review") == 1
    assert value(samples, "recovery_desk_cases", status="closed") == 1
    assert value(samples, "recovery_desk_sla_breached_cases") == 1  # the closed one's due time does not count
    assert value(samples, "recovery_desk_jobs", state="failed") == 1
    assert value(samples, "recovery_desk_jobs", state="queued") == 1
    assert value(samples, "recovery_desk_mail_undelivered", channel="email", failed="yes") == 1
    assert value(samples, "recovery_desk_mail_undelivered", channel="email", failed="no") == 1
    assert value(samples, "recovery_desk_audit_head_sequence") == head
    assert value(samples, "recovery_desk_jobs_waiting") is not None
    assert "someone@example.test" not in client.get("/metrics").text


def test_request_latency_is_labelled_by_endpoint_never_by_path(client, make_case):
    for number in range(3):
        client.get(f"/object/token-{number}-abcdefghijklmnopqrstuvwxyz")
        client.get(f"/no/such/page/{number}")
    client.open("/healthz", method="FROBNICATE")
    samples = scrape(client)
    endpoints = {dict(labels).get("endpoint") for (name, labels) in samples if name.startswith("recovery_desk_request")}
    assert {"approvals.objection", "unmatched"} <= endpoints
    assert not any("/" in (endpoint or "") for endpoint in endpoints)
    assert value(samples, "recovery_desk_request_duration_seconds_count", endpoint="unmatched", method="GET") >= 3
    methods = {dict(labels).get("method") for (name, labels) in samples if name == "recovery_desk_requests_total"}
    assert "FROBNICATE" not in methods and "other" in methods


@pytest.mark.parametrize("address", ["203.0.113.9", "10.0.0.5", "::ffff:203.0.113.9", "2001:db8::1"])
def test_addresses_outside_the_allowed_networks_are_refused(client, address):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 403


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_is_allowed_by_default(client, address):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 200


def test_a_forged_forwarded_for_does_not_get_in_without_a_trusted_proxy(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                          headers={"X-Forwarded-For": "127.0.0.1"})
    assert response.status_code == 403


class TestBehindOneProxy:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "TRUSTED_PROXIES": 1, "METRICS_ALLOWED_NETWORKS": "10.1.0.0/16"}

    def test_the_client_the_proxy_saw_counts_not_what_the_client_claims(self, client):
        proxy = {"REMOTE_ADDR": "127.0.0.1"}  # the proxy itself is on loopback
        forged = client.get("/metrics", environ_base=proxy, headers={"X-Forwarded-For": "10.1.2.3, 203.0.113.9"})
        assert forged.status_code == 403  # the proxy appended the real client: 203.0.113.9
        allowed = client.get("/metrics", environ_base=proxy, headers={"X-Forwarded-For": "10.1.2.3"})
        assert allowed.status_code == 200


def test_a_bad_network_list_stops_the_app(app_config):
    from support import create_app
    from support.config import ConfigError

    with pytest.raises(ConfigError, match="METRICS_ALLOWED_NETWORKS"):
        create_app({**app_config, "METRICS_ALLOWED_NETWORKS": "10.0.0.1/8"})
