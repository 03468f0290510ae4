"""Argon2 password hashing for accounts and agents."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a real password")
#: stored instead of a hash while no password is set (an invited agent, a reset one): matches nothing
UNUSABLE = "!unset"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; with no usable hash, spend the same time and say no."""
    usable = password_hash if is_usable(password_hash) else None
    try:
        return _hasher.verify(usable or _DUMMY, password) and usable is not None
    except (VerificationError, InvalidHashError):
        return False


def is_usable(password_hash: str | None) -> bool:
    """False for no hash and for ``UNUSABLE``: no password can sign in."""
    return bool(password_hash) and password_hash.startswith("$")
