"""Every review URL walked with every role and with no session."""
from __future__ import annotations

import pytest

from support.models import CannedReply, EvidenceKind, Role
from support import db

ADMIN_ONLY = {"review.canned_replies", "review.save_canned_reply", "review.seed_canned_replies",
              "review.delete_canned_reply", "review.confirm_canned_reply_deletion"}
SUPERVISOR_ONLY = {"review.reassign", "review.bulk_assign"}
#: POSTs an auditor may make: they change no case (their own saved views, "I am viewing this case")
READER_POSTS = {"review.save_view", "review.delete_view", "review.case_presence", "review.case_presence_leave"}
SUPERVISOR_OR_ADMIN = {"review.clear_flag"}
ROLES = [None, *Role]


def review_urls(app, number: str, evidence_id: int, reply_id: int) -> list[tuple[str, str, str]]:
    values = {"number": number, "evidence_id": evidence_id, "reply_id": reply_id, "view_id": 1, "page": 1,
              "value_id": 1}
    urls = []
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("review."):
                continue
            url = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
            urls += [(rule.endpoint, method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.value if role else "anonymous")
def test_every_review_url_with_every_role(app, client, login, make_case, attach, role):
    case, _ = make_case()
    item = attach(case.number, EvidenceKind.receipt)
    with app.app_context(), db.transaction(app) as session:
        reply = CannedReply(key="hello", language="en", title="Hello", body="Hello there")
        session.add(reply)
        session.flush()
        reply_id = reply.id
    urls = review_urls(app, case.number, item.id, reply_id)
    assert len(urls) >= 17  # a new route joins this walk automatically
    if role is not None:
        login(role)
    for endpoint, method, url in urls:
        response = client.open(url, method=method, data={"version": "0"})
        where = f"{role} {method} {url}"
        if role is None:
            assert response.status_code == 302 and "/agent/sign-in" in response.headers["Location"], where
        elif role == Role.dpo:  # a data-protection officer works on /privacy/erasure only, never on cases
            assert response.status_code == 403, where
        elif endpoint in ADMIN_ONLY and role != Role.admin:
            assert response.status_code == 403, where
        elif endpoint in SUPERVISOR_ONLY and role != Role.supervisor:
            assert response.status_code == 403, where
        elif endpoint in SUPERVISOR_OR_ADMIN and role not in (Role.supervisor, Role.admin):
            assert response.status_code == 403, where
        elif role == Role.auditor and method == "POST" and endpoint not in READER_POSTS:
            assert response.status_code == 403, where
        else:
            assert response.status_code not in (401, 403, 500), where
            if endpoint == "review.evidence_pdf_page":  # the evidence walked is a photo: no PDF pages
                assert response.status_code == 404, where
            elif method == "GET":
                assert response.status_code == 200, where
