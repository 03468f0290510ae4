"""Password reset by email for the built-in directory, as the vendor's service would offer.

The link carries a signed, time-limited token bound to the account's current password
hash, so it works once: after the password changes the same link no longer matches.
A reset does not lift a lock; only support unlocks an account (DESIGN.md).
"""
from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from .. import audit
from ..directory import directory
from ..models import Account
from ..refusals import Refused

#: how long a reset link works
LINK_MINUTES = 60
MIN_PASSWORD = 8
_SALT = "account-password-reset"


class ResetRefused(Refused):
    """The link is expired, used or forged, or the new password is unacceptable; ``code`` says which."""

    MESSAGES = {
        "expired": "This link has expired. Ask for a new one.",
        "invalid": "This link is not valid or was already used.",
        "too_short": f"Use at least {MIN_PASSWORD} characters.",
    }

    def __init__(self, code: str):
        super().__init__(code, self.MESSAGES[code], "password" if code == "too_short" else None)


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def _fingerprint(account: Account) -> str:
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def make_token(account: Account, secret_key: str) -> str:
    return _serializer(secret_key).dumps({"account": account.id, "password": _fingerprint(account)})


def account_for(session: Session, token: str, config: dict) -> Account:
    """The account the link is for; raises ``ResetRefused`` (expired / invalid) otherwise."""
    try:
        claims = _serializer(config["SECRET_KEY"]).loads(token, max_age=LINK_MINUTES * 60)
    except SignatureExpired as error:
        raise ResetRefused("expired") from error
    except BadSignature as error:
        raise ResetRefused("invalid") from error
    account = directory(session, config).get_account(claims.get("account"))
    if account is None or claims.get("password") != _fingerprint(account):
        raise ResetRefused("invalid")  # used already: the password it was made for has changed
    return account


def find_by_email(session: Session, email: str, config: dict) -> Account | None:
    return directory(session, config).find_account(email) if "@" in (email or "") else None


def set_new_password(session: Session, token: str, password: str, config: dict,
                     origin: audit.Origin | None = None) -> Account:
    """Use the link once: set the password (argon2 in the directory), audited."""
    account = account_for(session, token, config)
    if len(password) < MIN_PASSWORD:
        raise ResetRefused("too_short")
    directory(session, config).set_password(account, password)
    audit.record(session, actor=audit.Actor("account", str(account.id), None), action="account.password_reset",
                 subject=("account", account.id), after={"status": account.status.value}, origin=origin)
    return account
