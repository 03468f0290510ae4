"""Two app servers (gunicorn, two workers each) on one PostgreSQL, one Redis and one S3
bucket (moto's server, tests/s3server.py), with one job worker, under ``bench/load.py``'s
mixed load: no error, no lost file, one unbroken audit chain, every action executed once.

The servers run as production runs them (``RD_ENV=production``: required keys, secure
cookies, CSRF with https referers) behind a simulated nginx (``TRUSTED_PROXIES=1``, each
simulated person with an address of their own), with rate limits and the job queue in
Redis under names of this run only. Each server has an instance folder of its own, as a
machine would, so each keeps its own audit witness file; both are verified. Length and
connections: ``LOAD_TEST_SECONDS`` (60) and ``LOAD_TEST_CONNECTIONS`` (64).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("TEST_DATABASE_URL")
APP_ROLE = os.environ.get("TEST_APP_ROLE", "rd_app")
RATELIMIT_REDIS = os.environ.get("RATELIMIT_TEST_REDIS_URL")
JOBS_REDIS = os.environ.get("JOBS_TEST_REDIS_URL")
SECONDS = int(os.environ.get("LOAD_TEST_SECONDS", "60"))
CONNECTIONS = int(os.environ.get("LOAD_TEST_CONNECTIONS", "64"))
PUBLIC_URL = "https://desk.example.test"

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(not PG_URL, reason="two-server load test skipped: set TEST_DATABASE_URL (.ci/run does)"),
    pytest.mark.skipif(not (RATELIMIT_REDIS and JOBS_REDIS),
                       reason="two-server load test skipped: set RATELIMIT_TEST_REDIS_URL and JOBS_TEST_REDIS_URL "
                              "(.ci/run does)"),
]


def _no_control_socket() -> list[str]:
    """Recent gunicorn opens a control socket at one path per user: two servers on one machine need none."""
    usage = subprocess.run([str(BIN / "gunicorn"), "--help"], capture_output=True, text=True).stdout
    return ["--no-control-socket"] if "--no-control-socket" in usage else []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def load_database(postgres_databases):
    """A fresh migrated PostgreSQL database, as the app's role reaches it."""
    name = postgres_databases.take()
    yield make_url(PG_URL).set(database=name, username=APP_ROLE, password=None).render_as_string(hide_password=False)
    postgres_databases.give_back(name)


@pytest.fixture
def desk_environment(load_database, s3_server, tmp_path):
    """What every process of the desk shares: database, Redis, an S3 bucket, keys, outbox."""
    for url in (RATELIMIT_REDIS, JOBS_REDIS):
        try:
            redis.Redis.from_url(url, socket_timeout=2).ping()
        except redis.RedisError as error:
            pytest.skip(f"two-server load test skipped: Redis at {url} is not reachable ({error})")
    run = uuid.uuid4().hex[:8]
    key = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "RD_"))}
    environment.update(
        RD_ENV="production", SECRET_KEY=uuid.uuid4().hex * 2, AUDIT_SIGNING_KEY=key, PUBLIC_URL=PUBLIC_URL,
        AUDIT_PERSONAL_KEY=uuid.uuid4().hex * 2,
        DATABASE_URL=load_database, TRUSTED_PROXIES="1",
        RATELIMIT_STORAGE_URI=RATELIMIT_REDIS, RATELIMIT_KEY_PREFIX=f"load-{run}",
        JOBS_URL=JOBS_REDIS, JOBS_NAME=f"load-{run}",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
        AUDIT_CHECKPOINT_EVERY="50", PYTHONUNBUFFERED="1",
        **s3_server.config(),  # a new private bucket on the run's S3 server (tests/s3server.py)
    )
    return environment


class Processes:
    """The desk's processes; each stopped by its own id at the end."""

    def __init__(self, logs: Path):
        self.logs, self.started = logs, []

    def start(self, name: str, command: list[str], environment: dict) -> None:
        log = open(self.logs / f"{name}.log", "wb")
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.started.append((name, process, log))

    def stop(self) -> None:
        for _name, process, _log in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _name, process, log in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()

    def tail(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.logs.glob("*.log")))


def _wait_until_serving(url: str, processes: Processes) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or any(process.poll() is not None for _n, process, _l in processes.started):
            pytest.fail(f"{url} did not start serving:\n{processes.tail()}")
        time.sleep(0.5)


def test_two_servers_under_mixed_load_lose_nothing_and_do_nothing_twice(desk_environment, tmp_path):
    processes = Processes(tmp_path)
    servers, witnesses, options = [], [], _no_control_socket()
    try:
        for name in ("app-a", "app-b"):
            port = _free_port()
            instance = tmp_path / name
            environment = {**desk_environment, "INSTANCE_PATH": str(instance)}
            processes.start(name, [str(BIN / "gunicorn"), "--workers", "2", "--threads", "4", "--timeout", "120", "--keep-alive", "75",
                                   "--bind", f"127.0.0.1:{port}", *options, "app:app"], environment)
            servers.append(f"http://127.0.0.1:{port}")
            witnesses.append(str(instance / "audit-witness.log"))
        processes.start("worker", [str(BIN / "flask"), "--app", "app", "worker", "--workers", "2"],
                        {**desk_environment, "INSTANCE_PATH": str(tmp_path / "worker")})
        for url in servers:
            _wait_until_serving(url, processes)

        command = [sys.executable, str(ROOT / "bench" / "load.py"), "--outbox", desk_environment["MAIL_OUTBOX_DIR"],
                   "--public-url", PUBLIC_URL, "--duration", str(SECONDS), "--concurrency", str(CONNECTIONS)]
        command += [argument for url in servers for argument in ("--server", url)]
        command += [argument for path in witnesses for argument in ("--witness", path)]
        result = subprocess.run(command, cwd=ROOT, env={**desk_environment, "INSTANCE_PATH": str(tmp_path / "load")},
                                capture_output=True, text=True, timeout=SECONDS + 240)
    finally:
        processes.stop()
    lines = result.stdout.strip().splitlines()
    assert lines, f"the load tool printed nothing:\n{result.stderr[-3000:]}\n{processes.tail()}"
    outcome = json.loads(lines[-1])
    report = json.dumps({key: outcome[key] for key in outcome if key != "statuses"}, indent=1)
    assert outcome["http_errors"] == 0, report + processes.tail()
    assert outcome["problem_count"] == 0, report
    assert outcome["ok"] and result.returncode == 0, report
    print(report)  # what the load did (pytest -s shows it)
    # the load did the whole story, on both servers
    assert outcome["filed"] >= 10 and outcome["steps"].get("confirmed", 0) >= 10, report
    assert outcome["actions"], report
