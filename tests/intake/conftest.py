"""Fixtures for the intake tests: a valid claim and a browser-like /recover post."""
from __future__ import annotations

import pytest
from intake_samples import files_for

from support import create_app, imei


@pytest.fixture
def claim_fields():
    """``claim_fields(kind, **overrides)``: a valid /recover form, without files."""

    def fields(kind: str = "device_unbind", **overrides) -> dict:
        return {"kind": kind, "hint_email": "old@example.test", "imei1": imei.generate(), "model": "Phone 12",
                "purchase_date": "2024-03-01", "shop": "Corner Shop", "claimant_name": "Maria Rossi",
                "contact_email": "maria@example.test", "language": "en", "consent": "y", **overrides}

    return fields


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
