"""Fixtures for the intake tests: a browser-like /recover post (``claim_fields`` is in tests/conftest.py)."""
from __future__ import annotations

import pytest
from intake_samples import files_for

from support import create_app


@pytest.fixture
def recover(client, claim_fields):
    """``recover(kind, files=None, **fields)``: post the /recover form as a browser would."""

    def post(kind: str = "device_unbind", files: dict | None = None, **fields):
        data = {**claim_fields(kind, **fields), **(files_for(kind) if files is None else files)}
        return client.post("/recover", data=data, content_type="multipart/form-data")

    return post


@pytest.fixture
def plain_app(tmp_path):
    """An app for the checks that never touch the database (run once, not per backend)."""
    return create_app({"RD_ENV": "testing", "SECRET_KEY": "test-secret", "DATABASE_URL": "sqlite://",
                       "INSTANCE_PATH": str(tmp_path / "instance"), "UPLOAD_DIR": str(tmp_path / "uploads")})
