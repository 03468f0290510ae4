"""/healthz answers while the process lives; /readyz names the dependency that is down
(a stopped Redis, an unreadable storage folder) with 503, quickly."""
from __future__ import annotations

import os
import socket

import pytest

from support.ops import readiness


def test_healthz_asks_nothing(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_ready_when_everything_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "storage": "ok", "queue": "ok"}}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the socket closes


class TestStoppedRedis:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "JOBS_URL": f"redis://127.0.0.1:{_closed_port()}/0"}

    def test_the_queue_is_named(self, client):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json["status"] == "unavailable"
        assert response.json["checks"]["queue"].startswith("failed: ")
        assert response.json["checks"]["database"] == "ok"
        assert client.get("/healthz").status_code == 200  # alive, just not ready


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder: the unreadable storage needs another user")
def test_an_unreadable_storage_folder_is_named(client, app):
    uploads = app.config["UPLOAD_DIR"]
    os.makedirs(uploads, exist_ok=True)
    os.chmod(uploads, 0)
    try:
        response = client.get("/readyz")
    finally:
        os.chmod(uploads, 0o755)
    assert response.status_code == 503
    assert response.json["checks"]["storage"].startswith("failed: ")


def test_storage_that_is_not_a_folder_is_named(client, app):
    uploads = app.config["UPLOAD_DIR"]
    os.makedirs(os.path.dirname(uploads), exist_ok=True)
    with open(uploads, "w") as blocker:  # UPLOAD_DIR is a file: nothing under it can be read
        blocker.write("not a folder")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["storage"] == "failed: NotADirectoryError"


def test_a_check_that_hangs_is_reported_as_timed_out(app, monkeypatch):
    import threading

    release = threading.Event()
    monkeypatch.setattr(readiness, "CHECK_SECONDS", 0.2)
    monkeypatch.setitem(readiness.CHECKS, "queue", lambda _app: release.wait(5))
    try:
        outcome = readiness.check(app)
    finally:
        release.set()
    assert outcome["queue"] == "timed out" and outcome["database"] == "ok"
