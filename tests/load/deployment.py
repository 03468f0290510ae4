"""The desk run as a deployment runs it, for the tests of this folder: the services it is
given (``MISSING`` says why they cannot run here), its processes (gunicorn servers, a job
worker, nginx) started and every one of them stopped."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("TEST_DATABASE_URL")
APP_ROLE = os.environ.get("TEST_APP_ROLE", "rd_app")
RATELIMIT_REDIS = os.environ.get("RATELIMIT_TEST_REDIS_URL")
JOBS_REDIS = os.environ.get("JOBS_TEST_REDIS_URL")
PUBLIC_URL = "https://desk.example.test"
#: why a test of this folder cannot run here, or None
MISSING = ("set TEST_DATABASE_URL (.ci/run does)" if not PG_URL else
           "set RATELIMIT_TEST_REDIS_URL and JOBS_TEST_REDIS_URL (.ci/run does)" if not (RATELIMIT_REDIS and JOBS_REDIS)
           else None)


def no_control_socket() -> list[str]:
    """Recent gunicorn opens a control socket at one path per user: two servers on one machine need none."""
    usage = subprocess.run([str(BIN / "gunicorn"), "--help"], capture_output=True, text=True).stdout
    return ["--no-control-socket"] if "--no-control-socket" in usage else []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def wait_until_serving(url: str, processes: Processes) -> None:
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
