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
import subprocess
import sys

import pytest
from deployment import BIN, MISSING, PUBLIC_URL, ROOT, Processes, free_port, no_control_socket, wait_until_serving

SECONDS = int(os.environ.get("LOAD_TEST_SECONDS", "60"))
CONNECTIONS = int(os.environ.get("LOAD_TEST_CONNECTIONS", "64"))

pytestmark = [pytest.mark.load, pytest.mark.skipif(MISSING is not None, reason=f"two-server load test skipped: {MISSING}")]


def test_two_servers_under_mixed_load_lose_nothing_and_do_nothing_twice(desk_environment, tmp_path):
    processes = Processes(tmp_path)
    servers, witnesses, options = [], [], no_control_socket()
    try:
        for name in ("app-a", "app-b"):
            port = free_port()
            instance = tmp_path / name
            environment = {**desk_environment, "INSTANCE_PATH": str(instance)}
            processes.start(name, [str(BIN / "gunicorn"), "--workers", "2", "--threads", "4", "--timeout", "120", "--keep-alive", "75",
                                   "--bind", f"127.0.0.1:{port}", *options, "app:app"], environment)
            servers.append(f"http://127.0.0.1:{port}")
            witnesses.append(str(instance / "audit-witness.log"))
        processes.start("worker", [str(BIN / "flask"), "--app", "app", "worker", "--workers", "2"],
                        {**desk_environment, "INSTANCE_PATH": str(tmp_path / "worker")})
        for url in servers:
            wait_until_serving(url, processes)

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
