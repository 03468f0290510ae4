"""Evidence is personal data: no browser or proxy keeps a copy."""
from __future__ import annotations

from support.models import EvidenceKind, Role


def test_evidence_is_not_cached(client, login, make_case, attach, photo):
    login(Role.agent)
    case, _token = make_case()
    item = attach(case.number, EvidenceKind.box_photo, photo())
    for part in ("", "/thumbnail", "/viewable", "/original"):
        response = client.get(f"/cases/{case.number}/evidence/{item.id}{part}")
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", part
    original = client.get(f"/cases/{case.number}/evidence/{item.id}/original")
    assert original.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
