"""The built-in account service's sign-in page counts down the attempts left before the lock,
says when the account is locked and how to recover, and is no account-existence oracle."""
from __future__ import annotations

import re

from support import db
from support.models import Account, AccountStatus, SignInFailure


def _sign_in(client, login: str, password: str = "wrong-password", **headers) -> str:
    return client.post("/account/sign-in", data={"login": login, "password": password}, headers=headers).text


def _answer(page: str) -> str:
    """The page's answer without the typed name (the form echoes it back)."""
    match = re.search(r'<main>(.*?)<form', page, re.S) or re.search(r"<main>(.*?)</main>", page, re.S)
    return re.sub(r"\s+", " ", match.group(1)).strip()


def test_wrong_passwords_count_down_then_the_page_says_locked_and_how_to_recover(app, client, make_account):
    account = make_account(email="owner@example.test")
    for left in range(9, 0, -1):
        page = _sign_in(client, "owner@example.test")
        assert f"{left} attempt{'s' if left != 1 else ''} left before the account is locked." in page
    locked = _sign_in(client, "owner@example.test")
    assert 'id="locked"' in locked and "file a recovery case" in locked and "/recover?kind=locked_account" in locked
    with app.app_context(), db.transaction(app) as session:
        assert session.get(Account, account.id).status == AccountStatus.locked
    assert 'id="locked"' in _sign_in(client, "owner@example.test", "right-password")  # even the right one


def test_the_right_password_resets_the_count(client, make_account):
    make_account(email="owner@example.test", phone="+39 333 123 4567")
    _sign_in(client, "owner@example.test")
    assert "8 attempts left" in _sign_in(client, "+393331234567")  # the same account by its phone
    assert 'id="signed-in"' in _sign_in(client, "owner@example.test", "right-password")
    assert "9 attempts left" in _sign_in(client, "owner@example.test")


def test_the_countdown_is_in_the_readers_language(client, make_account):
    make_account(email="owner@example.test")
    assert "Осталось попыток до блокировки аккаунта: 9." in _sign_in(client, "owner@example.test", **{"Accept-Language": "ru"})
    assert "Tentativi rimasti prima del blocco dell'account: 8." in _sign_in(client, "owner@example.test", **{"Accept-Language": "it"})


def test_an_unknown_name_answers_exactly_as_an_account_does_down_to_the_lock(app, client, make_account):
    """The attacker's test: sign-in names with and without an account are told apart by nothing."""
    make_account(email="owner@example.test")
    for _ in range(10):
        known = _answer(_sign_in(client, "owner@example.test"))
        unknown = _answer(_sign_in(client, "nobody@example.test"))
        assert known == unknown
    assert "locked" in known
    # the unknown name's count is kept as a hash only, never the name
    with app.app_context(), db.transaction(app) as session:
        rows = session.exec(SignInFailure.__table__.select()).all()
    assert len(rows) == 1 and rows[0].failed_attempts == 10 and "nobody" not in rows[0].login_hash
    # differently written, the same unknown name is the same counter (as an account's email would be)
    assert _answer(_sign_in(client, " NOBODY@example.test ")) == _answer(_sign_in(client, "owner@example.test"))
