"""Password reset by email on the built-in directory: signed, single-use, expiring, audited."""
from __future__ import annotations

from sqlmodel import select

from support.account import reset as resets
from support.models import AuditEvent


def reset_link(outbox) -> str:
    body = outbox()[-1][3]
    return "/account/reset/" + body.split("/account/reset/")[1].split()[0]


def test_reset_by_email_then_sign_in(client, make_account, outbox, tx):
    account = make_account(email="owner@example.test", password="old-password")
    unknown = client.post("/account/reset", data={"email": "nobody@example.test"})
    known = client.post("/account/reset", data={"email": "Owner@Example.test"})
    assert 'id="reset-sent"' in unknown.text and 'id="reset-sent"' in known.text  # the same answer
    assert [to for _kind, to, _subject, _body in outbox()] == ["owner@example.test"]
    link = reset_link(outbox)
    assert client.get(link).status_code == 200
    mismatch = client.post(link, data={"password": "brand-new-password", "confirm": "other-password"})
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    done = client.post(link, data={"password": "brand-new-password", "confirm": "brand-new-password"})
    assert 'id="reset-done"' in done.text and "still-locked" not in done.text
    signed_in = client.post("/account/sign-in", data={"login": "owner@example.test", "password": "brand-new-password"})
    assert f"signed in to account {account.id}" in signed_in.text
    used = client.post(link, data={"password": "another-password", "confirm": "another-password"})
    assert used.status_code == 400 and "already used" in used.text
    with tx() as session:
        actions = [event.action for event in session.exec(select(AuditEvent).order_by(AuditEvent.seq))]
        assert actions.count("account.reset_requested") == 1 and actions.count("account.password_reset") == 1


def test_a_reset_does_not_lift_a_lock(client, make_account, outbox, tx, app):
    make_account(email="locked@example.test", password="old-password")
    for _attempt in range(app.config["ACCOUNT_LOCK_THRESHOLD"]):
        client.post("/account/sign-in", data={"login": "locked@example.test", "password": "wrong"})
    client.post("/account/reset", data={"email": "locked@example.test"})
    done = client.post(reset_link(outbox), data={"password": "brand-new-password", "confirm": "brand-new-password"})
    assert 'id="still-locked"' in done.text
    refused = client.post("/account/sign-in", data={"login": "locked@example.test", "password": "brand-new-password"})
    assert 'id="locked"' in refused.text


def test_expired_and_forged_links_are_refused(client, make_account, outbox, monkeypatch):
    make_account(email="owner@example.test")
    client.post("/account/reset", data={"email": "owner@example.test"})
    link = reset_link(outbox)
    assert "not valid" in client.get(link + "x").text
    monkeypatch.setattr(resets, "LINK_MINUTES", -1)
    expired = client.get(link)
    assert expired.status_code == 400 and "expired" in expired.text


def test_reset_pages_speak_the_claimants_language(client):
    assert "Мы отправим ссылку на email вашего аккаунта" in client.get("/account/reset?lang=ru").text
    assert "Invieremo un link all" in client.get("/account/reset?lang=it").text
