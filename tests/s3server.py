"""A real S3-compatible server for tests and benches: moto's server mode on 127.0.0.1.

``start()`` runs ``moto_server`` as a subprocess on a free port and returns it once it
answers; ``S3Server.config(bucket)`` gives the app settings that reach a new private
bucket there. Outside pytest (benches, several servers sharing one bucket):
``.venv/bin/python tests/s3server.py`` starts one, makes a bucket, prints its settings as
``export`` lines and serves until Ctrl-C.
"""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3

#: moto accepts any key; these only have to be the same on both sides
ACCESS_KEY, SECRET_KEY, REGION = "test-access-key", "test-secret-key", "us-east-1"
#: seconds the server may take to answer its first request
START_SECONDS = 30


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def new_bucket(self) -> str:
        bucket = f"rd-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def config(self, bucket: str | None = None, prefix: str = "") -> dict:
        """App settings for a bucket on this server (a new one unless named)."""
        bucket = bucket or self.new_bucket()
        return {"STORAGE_URL": f"s3://{bucket}/{prefix}".rstrip("/"), "S3_ENDPOINT_URL": self.endpoint,
                "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _command() -> list[str]:
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if found is None:
        raise RuntimeError("moto_server is not installed: pip install 'moto[server]' (make install does)")
    return [found]


def start() -> S3Server:
    """Start a server on a free port of 127.0.0.1; waits until it answers."""
    port = _free_port()
    process = subprocess.Popen([*_command(), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = S3Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"{server.endpoint}/moto-api/", timeout=2).close()
            return server
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"moto_server did not start on port {port}") from None
            time.sleep(0.1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the server on TERM as on Ctrl-C
    running = start()
    try:
        for name, value in running.config().items():
            print(f"export {name}={value}", flush=True)
        running.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
