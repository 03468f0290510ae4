"""Wrong passwords typed for a name that has no account, counted as an account's are.

A countdown, a throttle or a lock that only real accounts get tells an attacker which names
have one. The account service's sign-in (``directory``) and the staff sign-in (``agents``)
both count a name without an account here, so it answers exactly as an account with as many
failures would. Only a keyed hash of the name is kept, per door: a plain hash of an email
would be undone by hashing a list of emails, and these are mostly claimants' own, typed at
the wrong door.
"""
from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from . import personal_data
from .models import SignInFailure, utcnow


def name_hash(session: Session, door: str, name: str) -> str:
    """The key of ``name`` (already normalised) at ``door`` ("sign-in", "agent-sign-in"): an
    HMAC under the desk's personal-data key (``AUDIT_PERSONAL_KEY``), which none of the
    database's readers holds."""
    return hmac.new(personal_data.key_of(session), f"{door}:{name}".encode(), hashlib.sha256).hexdigest()


def find(session: Session, login_hash: str) -> SignInFailure | None:
    return session.get(SignInFailure, login_hash, populate_existing=True)


def count(session: Session, login_hash: str) -> SignInFailure:
    """One more wrong password for the name; returns its row, this failure included."""
    bump = (update(SignInFailure).where(SignInFailure.login_hash == login_hash)
            .values(failed_attempts=SignInFailure.failed_attempts + 1, updated_at=utcnow()))
    if session.exec(bump).rowcount == 0:
        try:
            with session.begin_nested():  # another request may be inserting the same name
                session.add(SignInFailure(login_hash=login_hash, failed_attempts=1))
        except IntegrityError:
            session.exec(bump)
    return find(session, login_hash)
