"""Deleting a canned reply asks first, without JavaScript: only the confirmation page's button deletes."""
from __future__ import annotations

from sqlmodel import select

from support.models import AuditEvent, CannedReply, Role


def test_deleting_a_reply_needs_the_confirmation_page(client, login, tx):
    login(Role.admin)
    with tx() as session:
        reply = CannedReply(key="greeting", language="en", title="Greeting", body="Hello, we are on it.")
        session.add(reply)
        session.flush()
        reply_id = reply.id
    listing = client.get("/canned-replies").text
    assert f'href="/canned-replies/{reply_id}/delete"' in listing  # a link to the question, not a delete button

    unconfirmed = client.post(f"/canned-replies/{reply_id}/delete")  # an old page, or a forged form
    assert unconfirmed.status_code == 303 and unconfirmed.location == f"/canned-replies/{reply_id}/delete"
    question = client.get(unconfirmed.location)
    assert question.status_code == 200 and "Delete this reply?" in question.text and "Hello, we are on it." in question.text
    assert 'name="confirm" value="yes"' in question.text
    with tx() as session:
        assert session.get(CannedReply, reply_id) is not None
        assert not session.exec(select(AuditEvent).where(AuditEvent.action == "canned_reply.deleted")).all()

    assert client.post(f"/canned-replies/{reply_id}/delete", data={"confirm": "yes"}).status_code == 302
    with tx() as session:
        assert session.get(CannedReply, reply_id) is None
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "canned_reply.deleted")).one()
    assert client.get(f"/canned-replies/{reply_id}/delete").status_code == 404


def test_agents_cannot_delete_replies(client, login, tx):
    login(Role.supervisor)
    with tx() as session:
        reply = CannedReply(key="greeting", language="en", title="Greeting", body="Hello")
        session.add(reply)
        session.flush()
        reply_id = reply.id
    assert client.get(f"/canned-replies/{reply_id}/delete").status_code == 403
    assert client.post(f"/canned-replies/{reply_id}/delete", data={"confirm": "yes"}).status_code == 403
    with tx() as session:
        assert session.get(CannedReply, reply_id) is not None
