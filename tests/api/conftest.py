"""Fixtures of the API tests: a helper that files a case, and one filed case."""
from __future__ import annotations

import pytest

from support.models import CaseKind

from .factories import claim_form, multipart


@pytest.fixture
def file_case(client):
    """``file_case(case_kind, headers=None, **fields) -> response`` posting a filing to the API."""

    def post(case_kind: CaseKind = CaseKind.device_unbind, headers: dict | None = None, **overrides):
        return client.post("/api/v1/cases", data=multipart(claim_form(case_kind, **overrides)), headers=headers or {},
                           content_type="multipart/form-data")

    return post


@pytest.fixture
def filed(file_case):
    """A case filed through the API: ``(number, token)``."""
    response = file_case()
    assert response.status_code == 201, response.json
    return response.json["number"], response.json["token"]
