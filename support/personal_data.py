"""What is personal in an audit event, and the keyed fingerprint that stands in for it.

Every audit event belongs to at most one DATA SUBJECT (``data_subject``): the case for a
claimant's data, ``account:<id>`` for an account holder's. In an event with a subject, the
values at the positions ``Personal`` declares are replaced, before hashing, by a token
``pv:<fingerprint>``: the keyed HMAC-SHA256 of the value (``AUDIT_PERSONAL_KEY``). The value
itself goes to ``personal_value``, bound to the subject, in the same transaction
(``audit.record`` calls ``tokenise`` and ``keep``). Reading and erasing are ``personal.py``.

Staff are not data subjects here: an agent's name and sign-in email, and the addresses
agents work from, stay in clear text, because the trail must say who decided what for as
long as it is kept. Device events (IMEI, account bound) are the directory's facts, not a
person's; the IMEIs a claimant typed into a case are the case's.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path
from typing import Any, Iterable

from flask import current_app, has_app_context
from sqlmodel import Session, select

from .models import PersonalValue
from .sentences import system_reason

TOKEN = re.compile(r"pv:[0-9a-f]{32}")
#: actors whose name, address and browser are staff or system data, never a subject's
STAFF = frozenset({"agent", "system", "cli"})


class Personal:
    """The one declared list of what is personal in an event that has a data subject."""

    #: keys of ``before``/``after`` (at any depth) whose values are personal: every text in
    #: them, however deep (``notified`` is a list of addresses, ``recovery_email`` a before/after pair)
    KEYS = frozenset({"email", "phone", "contact_email", "claimant_name", "hint_email", "hint_phone", "name",
                      "filename", "note", "value", "read", "imei1", "imei2", "imeis", "serial", "text",
                      "notified", "recovery_email"})
    #: columns that are personal when the actor is not staff (a claimant, an account holder, anyone)
    ACTOR_FIELDS = ("actor_name", "ip", "user_agent")
    # and ``reason`` is personal unless the system wrote it: the system actor's own words (a
    # failed drawing, an analysis problem) or a known text (``sentences.system_reason``);
    # a reason a person typed may quote a name or an address

    #: columns a reader shows that may hold tokens
    SHOWN = ("actor_name", "before", "after", "reason", "ip", "user_agent")


def data_subject(fields: dict) -> str | None:
    """Whose personal data the event holds: the case, else the account; None for staff and system matters."""
    if fields.get("case_number"):
        return fields["case_number"]
    if fields.get("actor_type") == "claimant" and fields.get("actor_id"):
        return fields["actor_id"]
    if fields.get("subject_type") == "account" and fields.get("subject_id"):
        return f"account:{fields['subject_id']}"
    if fields.get("actor_type") == "account" and fields.get("actor_id"):
        return f"account:{fields['actor_id']}"
    return None


# -- the key and the fingerprint ----------------------------------------------------------


def load_key(config: dict, instance_path: str) -> bytes:
    """AUDIT_PERSONAL_KEY (hex, at least 32 bytes); generated into instance/ outside production."""
    secret = config.get("AUDIT_PERSONAL_KEY")
    if not secret:
        if config.get("RD_ENV") == "production":
            raise RuntimeError("AUDIT_PERSONAL_KEY must be set in production.")
        path = Path(instance_path) / "audit_personal_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        secret = path.read_text().strip()
    key = bytes.fromhex(secret)
    if len(key) < 32:
        raise RuntimeError("AUDIT_PERSONAL_KEY must be at least 32 bytes (64 hex digits).")
    return key


def fingerprint(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def token(key: bytes, value: str) -> str:
    return f"pv:{fingerprint(key, value)}"


def key_of(session: Session) -> bytes:
    """The key the session's app uses (set on every session by ``init_app``)."""
    key = session.info.get("personal_key")
    if key is None and has_app_context():
        key = current_app.extensions["personal_key"]()
    if key is None:
        raise RuntimeError("no AUDIT_PERSONAL_KEY for this session: open it through support.db")
    return key


# -- writing: tokenise the fields of a new event ------------------------------------------


def tokenise(fields: dict, key: bytes) -> tuple[dict, str | None, dict[str, str]]:
    """The event's fields with personal values replaced by tokens, its subject, and {fingerprint: value}.

    A value that already is a token is kept as it is (converting twice changes nothing).
    """
    subject = data_subject(fields)
    if subject is None:
        return fields, None, {}
    found: dict[str, str] = {}

    def hide(value: Any) -> Any:
        if isinstance(value, str) and value and not TOKEN.fullmatch(value):
            fp = fingerprint(key, value)
            found[fp] = value
            return f"pv:{fp}"
        if isinstance(value, list):
            return [hide(item) for item in value]
        if isinstance(value, dict):
            return {name: hide(item) for name, item in value.items()}
        return value

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {name: hide(item) if name in Personal.KEYS else walk(item) for name, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    hidden = dict(fields, before=walk(fields.get("before")), after=walk(fields.get("after")))
    if fields.get("actor_type") not in STAFF:
        hidden.update({name: hide(fields.get(name)) for name in Personal.ACTOR_FIELDS})
    if fields.get("reason") and fields.get("actor_type") != "system" and not system_reason(fields["reason"]):
        hidden["reason"] = hide(fields["reason"])
    return hidden, subject, found


def keep(session: Session, subject: str, found: dict[str, str]) -> None:
    """Store the subject's values the event names (the caller holds the chain's lock)."""
    if not found:
        return
    rows = {row.fingerprint: row for row in session.exec(
        select(PersonalValue).where(PersonalValue.subject == subject, PersonalValue.fingerprint.in_(list(found))))}
    for fp, value in found.items():
        row = rows.get(fp)
        if row is None:
            session.add(PersonalValue(subject=subject, fingerprint=fp, value=value))
        elif row.value is None:  # erased, and now known again from a new event
            row.value, row.erased_at = value, None
            session.add(row)


def tokens_in(value: Any) -> Iterable[str]:
    """Every token in a column's value (text, or JSON at any depth)."""
    if isinstance(value, str) and TOKEN.fullmatch(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from tokens_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from tokens_in(item)


def init_app(app) -> None:
    """Load the key once and hand it to every session the app opens (``key_of``)."""
    loaded: list[bytes] = []

    def key() -> bytes:
        if not loaded:
            loaded.append(load_key(app.config, app.instance_path))
        return loaded[0]

    app.extensions["personal_key"] = key
    app.extensions.setdefault("db_session_hooks", []).append(lambda session: session.info.update(personal_key=key()))
