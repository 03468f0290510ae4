"""The API's missing-evidence refusal says "one of" where either file is enough, as the form does."""
from __future__ import annotations

from support.models import CaseKind

from .factories import files_for


def test_the_api_refusal_says_one_of_for_alternatives(file_case):
    response = file_case(CaseKind.locked_account, **files_for(["box_photo"]))
    assert response.status_code == 422 and response.json["error"]["code"] == "missing_evidence"
    assert response.json["error"]["message"] == "Please add: one of Identity document or Purchase receipt."
    russian = file_case(CaseKind.locked_account, headers={"Accept-Language": "ru"}, **files_for(["box_photo"]))
    assert "одно из: " in russian.json["error"]["message"]
