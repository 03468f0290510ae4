"""Personal values in the audit trail, read back and erased (crypto-shredding).

The hashed audit text names a claimant's or an account holder's values only by a keyed
fingerprint (``personal_data``); the values live in ``personal_value``, bound to their
data subject. Readers (the audit page, timelines, reports, the export) ``reveal`` events:
tokens become values again, an erased value reads as a marker, and a value that no
longer matches its fingerprint (moved between subjects, edited) reads as a warning, never
as the value. ``erase`` clears a subject's values: every hash stays sound, so
``audit verify`` passes before and after.
"""
from __future__ import annotations

import hmac
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlmodel import Session, select

from . import audit
from .models import AuditEvent, PersonalValue, utcnow
from .personal_data import TOKEN, Personal, data_subject, fingerprint, key_of, token, tokens_in

ERASED = _l("[erased]")
MISMATCH = _l("[altered: does not match its fingerprint]")
MISSING = _l("[missing from the personal values]")


# -- reading: tokens back to values --------------------------------------------------------


def values_of(session: Session, events: list[AuditEvent], key: bytes | None = None,
              *, erased: Any = None, mismatch: Any = None) -> dict[tuple[str, str], Any]:
    """{(subject, token): value} for every token of ``events``; ``erased``/``mismatch`` stand in
    for a value that was erased or that no longer matches its fingerprint."""
    key = key or key_of(session)
    wanted: dict[str, set[str]] = {}
    for event in events:
        subject = data_subject(_fields(event))
        if subject is None:
            continue
        for name in Personal.SHOWN:
            wanted.setdefault(subject, set()).update(t[3:] for t in tokens_in(getattr(event, name)))
    found: dict[tuple[str, str], Any] = {}
    for subject, fingerprints in wanted.items():
        listed = sorted(fingerprints)
        for start in range(0, len(listed), 500):
            chunk = listed[start:start + 500]
            for row in session.exec(select(PersonalValue).where(PersonalValue.subject == subject,
                                                                 PersonalValue.fingerprint.in_(chunk))):
                if row.value is None:
                    shown = erased
                elif not hmac.compare_digest(fingerprint(key, row.value), row.fingerprint):
                    shown = mismatch
                else:
                    shown = row.value
                found[(subject, f"pv:{row.fingerprint}")] = shown
    return found


def _fields(event: AuditEvent) -> dict:
    return {name: getattr(event, name) for name in ("case_number", "actor_type", "actor_id", "subject_type",
                                                     "subject_id")}


def reveal(session: Session, events: list[AuditEvent], key: bytes | None = None) -> list[AuditEvent]:
    """Copies of ``events`` (never added to a session) with their personal values shown;
    an erased value reads ``[erased]``, an altered or missing one a warning (translated
    when shown, so a report in another language says it in that language)."""
    values = values_of(session, events, key, erased=ERASED, mismatch=MISMATCH)
    missing = MISSING
    shown = []
    for event in events:
        subject = data_subject(_fields(event))
        if subject is None:
            shown.append(event)
            continue

        def back(value: Any) -> Any:
            if isinstance(value, str) and TOKEN.fullmatch(value):
                return values.get((subject, value), missing)
            if isinstance(value, dict):
                return {name: back(item) for name, item in value.items()}
            if isinstance(value, list):
                return [back(item) for item in value]
            return value

        # a transient copy: the stored row must never be changed (nor flushed with values in it)
        columns = {name: getattr(event, name) for name in AuditEvent.model_fields}
        shown.append(AuditEvent(**{**columns, **{name: back(columns[name]) for name in Personal.SHOWN}}))
    return shown


def personal_map(session: Session, events: list[AuditEvent], key: bytes | None = None) -> dict[str, dict]:
    """{seq: {token: value or None}} for an export: the hashed text stays as hashed, next to its values.
    None stands for an erased value, and for one that no longer matches its fingerprint."""
    values = values_of(session, events, key)
    by_event: dict[int, dict] = {}
    for event in events:
        subject = data_subject(_fields(event))
        tokens = {t for name in Personal.SHOWN for t in tokens_in(getattr(event, name))} if subject else set()
        if tokens:
            by_event[event.seq] = {t: values.get((subject, t)) for t in sorted(tokens)}
    return by_event


def altered(session: Session, key: bytes | None = None) -> list[PersonalValue]:
    """Kept values that are not the value their fingerprint was made from (edited, or swapped
    between subjects): the hash chain cannot see them, since it holds only fingerprints."""
    key = key or key_of(session)
    return [row for row in session.exec(select(PersonalValue).where(PersonalValue.value.is_not(None))
                                        .order_by(PersonalValue.id).execution_options(yield_per=2000))
            if not hmac.compare_digest(fingerprint(key, row.value), row.fingerprint)]


def search_tokens(key: bytes, typed: str) -> list[str]:
    """The tokens a typed value would have been written as (as typed, and trimmed and lower-cased)."""
    typed = typed.strip()
    return sorted({token(key, typed), token(key, typed.lower())}) if typed else []


# -- erasure -------------------------------------------------------------------------------


def erase(session: Session, subjects: Iterable[str], *, actor, reason: str | None = None, origin=None) -> int:
    """Clear every personal value of ``subjects`` (their rows keep the fingerprint and ``erased_at``)
    and record one ``personal.erased`` event with the subjects and counts, no value.

    Returns how many values were cleared. The audit chain is untouched, so ``audit verify``
    passes before and after; readers show the values as erased.
    """
    subjects = sorted(set(subjects))
    now, cleared = utcnow(), 0
    for start in range(0, len(subjects), 500):
        chunk = subjects[start:start + 500]
        result = session.exec(update(PersonalValue)
                              .where(PersonalValue.subject.in_(chunk), PersonalValue.value.is_not(None))
                              .values(value=None, erased_at=now)
                              .execution_options(synchronize_session="fetch"))
        cleared += result.rowcount or 0
    audit.record(session, actor=actor, action="personal.erased", subject=("personal", None),
                 after={"subjects": subjects, "values": cleared}, reason=reason, origin=origin)
    return cleared

