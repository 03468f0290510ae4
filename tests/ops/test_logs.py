"""LOG_FORMAT=json: every line one JSON object with the request's id, no private link, query
string or email address in it; the same under gunicorn (several workers summing their
request metrics on /metrics) and in the worker."""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOG_FORMAT": "json"}


@pytest.fixture
def log_lines(capsys):
    """``log_lines() -> [dict]``: the JSON lines written to stderr so far (each must parse)."""
    capsys.readouterr()

    def read() -> list[dict]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]

    return read


def test_each_request_writes_one_json_access_line_with_its_request_id(client, log_lines):
    response = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    access = [line for line in log_lines() if line["logger"] == "recovery_desk.access"]
    assert len(access) == 1
    line = access[0]
    assert {"time", "level", "logger", "message", "request_id", "method", "path", "endpoint", "status",
            "duration_ms", "remote_addr"} <= set(line)
    assert (line["request_id"], line["method"], line["path"], line["endpoint"], line["status"]) == (
        "abc-123", "GET", "/healthz", "ops.health", 200)
    assert isinstance(line["duration_ms"], float)


def test_a_request_without_an_id_gets_one_in_the_log_and_the_response(client, log_lines):
    response = client.get("/healthz")
    line = [line for line in log_lines() if line["logger"] == "recovery_desk.access"][0]
    assert line["request_id"] == response.headers["X-Request-Id"] and len(line["request_id"]) == 32


def test_private_links_query_strings_and_emails_stay_out_of_the_logs(app, client, log_lines):
    token = "Zm9vYmFyLXByaXZhdGUtdG9rZW4tMTIzNDU2"
    client.get(f"/object/{token}")
    client.get(f"/recover/confirm/{token}")
    client.get(f"/track/RD-2026-000001?t={token}&email=someone@example.test")
    client.get(f"/no/such/{token}")
    with app.test_request_context("/"):
        logging.getLogger("recovery_desk.test").warning("mail to someone@example.test failed")
    lines = log_lines()
    text = json.dumps(lines)
    assert token not in text and "someone@example.test" not in text and "?t=" not in text
    paths = [line["path"] for line in lines if line["logger"] == "recovery_desk.access"]
    assert "/object/[redacted]" in paths and "/no/such/[redacted]" in paths
    assert "/track/RD-2026-000001" in paths  # a case number is not a secret
    assert any(line["message"] == "mail to [email] failed" for line in lines)


def test_an_error_is_one_json_line_with_its_traceback(app, client, log_lines):
    @app.get("/boom")
    def boom():
        raise RuntimeError("exploded for someone@example.test")

    assert client.get("/boom").status_code == 500
    lines = log_lines()
    error = [line for line in lines if "exception" in line][0]
    assert "RuntimeError: exploded for [email]" in error["exception"]
    assert error["endpoint"] == "boom" and error["request_id"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen) -> None:
    for _attempt in range(300):
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {process.stderr.read()}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


def test_under_gunicorn_every_line_is_json_and_workers_sum_their_metrics(app, tmp_path):
    from support import db

    db.upgrade(app)
    port = _free_port()
    env = {**os.environ, "LOG_FORMAT": "json", "RD_ENV": "testing", "SECRET_KEY": "test",
           "DATABASE_URL": app.config["DATABASE_URL"], "INSTANCE_PATH": app.instance_path,
           "UPLOAD_DIR": app.config["UPLOAD_DIR"], "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:support.ops.gunicorn", "app:app"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz", process)
        for _ in range(20):  # spread over both workers
            _get(f"{base}/object/Zm9vYmFyLXByaXZhdGUtdG9rZW4tMTIzNDU2?t=secret")
        exposition = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line parses
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines)
    access = [line for line in lines if line["logger"] == "recovery_desk.access"]
    assert len({line["request_id"] for line in access}) == len(access) >= 22
    assert "Zm9vYmFyLXByaXZhdGUtdG9rZW4tMTIzNDU2" not in err and "secret" not in err
    counts = {sample.labels.get("endpoint"): sample.value
              for family in text_string_to_metric_families(exposition) for sample in family.samples
              if sample.name == "recovery_desk_request_duration_seconds_count"}
    assert counts["approvals.objection"] == 20  # both workers' requests, summed


def _get(url: str) -> None:
    try:
        urllib.request.urlopen(url, timeout=10).close()
    except urllib.error.HTTPError as error:
        error.close()


def test_the_worker_writes_json_lines_too(tmp_path):
    env = {**os.environ, "LOG_FORMAT": "json", "RD_ENV": "testing", "SECRET_KEY": "test",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite'}", "INSTANCE_PATH": str(tmp_path / "instance"),
           "UPLOAD_DIR": str(tmp_path / "uploads")}
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run(flask + ["init-db"], cwd=ROOT, env=env, check=True, capture_output=True)
    worker = subprocess.Popen(flask + ["worker", "--workers", "1", "--no-periodic"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = worker.stderr.readline()  # the consumer says it started
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, rest = worker.communicate(timeout=30)
    lines = [json.loads(line) for line in (first + rest).splitlines() if line.strip()]
    assert lines[0]["logger"].startswith("huey.consumer") and "started" in lines[0]["message"]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
