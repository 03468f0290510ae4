"""What the tests that run the desk as a deployment share: a migrated PostgreSQL database
as the app's role reaches it, and the environment every process of the desk is given."""
from __future__ import annotations

import os
import uuid

import pytest
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from deployment import APP_ROLE, JOBS_REDIS, PG_URL, PUBLIC_URL, RATELIMIT_REDIS
from sqlalchemy.engine import make_url


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
