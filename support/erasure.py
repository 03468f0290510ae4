"""Erasing one case's personal data, on request or when retention says so.

What goes: the claimant's name, contact email and account hints, the device's identifiers
and purchase details they gave, every message body (agents' replies quote names too),
the checklist's questions and answers, the decision's free text, the evidence files with
their names, EXIF, extracted values and read text, the contacts recorded when the case
was filed, queued and already written mail naming the case, the presence rows of its page,
the counted sign-in failures of the claimant's addresses, agents' saved queue searches
naming the claimant, and (``personal.erase``) the
values the audit trail keeps apart from its hashed text. What stays: the number, kind,
status, decision, the actions and their outcomes, dates, evidence SHA-256s and picture
hashes, and the audit trail, which still verifies.

One case per transaction, with its ``case.erased`` event. The case row is locked first,
and everything a claimant or the worker writes to a case checks ``erased_at`` after
locking the same row (``refuse_if_erased``), so nothing written at the same moment
survives un-erased. Files are deleted after the commit, under the storage lock, unless a
case that is not erased still references them (files are shared by content); a crash in
between leaves files nothing references, which the daily purge of unreferenced files
removes (``intake.staging.purge``). Each erasure is noted outside the database, so that a
restore of an older backup erases it again (``erasure_ledger``).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import unquote_plus

from flask import current_app
from sqlalchemy import Engine, delete, event, func, or_, update
from sqlmodel import Session, select

from . import actions, audit, cases, db, erasure_ledger, personal, written
from .agents import unknown_email_hash
from .directory import normalise_email, normalise_phone, unknown_login_hash
from .evidence import pages
from .models import (AccountContactRecord, Action, Case, CasePresence, CaseStatus, Evidence, ExtractedValue, Message,
                     OutgoingMessage, PersonalValue, RequestedItem, SavedQueueView, SignInFailure, utcnow)
from .refusals import Refused
from .storage import Storage, storage

log = logging.getLogger("recovery_desk.erasure")

_PENDING = "erasure.pending"
#: SQLite's full-text indexes over claimant details, messages and read text (migration search_1)
SQLITE_SEARCH_INDEXES = ("case_search", "message_search", "evidence_search")
#: the fewest digits a phone number is looked up by (fewer would match strangers)
MIN_PHONE_DIGITS = 7


class ErasureRefused(Refused):
    """The erasure cannot go ahead: ``case_open`` (not closed, no override) or ``reason_required``."""

    status = 409


@dataclass
class Erased:
    """What one erasure did: counts for the audit event, and what is cleaned after the commit."""

    number: str
    counts: dict[str, int] = field(default_factory=dict)
    #: (area, name) of every stored file the case's evidence used
    files: set[tuple[str, str]] = field(default_factory=set)
    #: the personal values and the case number, to find written mail naming them
    needles: tuple[str, ...] = ()
    merge_search_index: bool = True


def lock(session: Session, case_id: int) -> Case:
    """The case re-read under a row lock (PostgreSQL; SQLite's writer lock is already held)."""
    return session.exec(select(Case).where(Case.id == case_id).with_for_update()
                        .execution_options(populate_existing=True)).one()


def is_erased(session: Session, case_id: int) -> bool:
    """True when the case's data was erased; the caller has locked the case or a row of it."""
    return lock(session, case_id).erased_at is not None


def cases_of_claimant(session: Session, query: str, *, limit: int = 50) -> list[Case]:
    """The cases whose claimant is ``query``: a case number, a contact or remembered email, or a
    remembered phone number (compared as the directory normalises it); newest first."""
    query = (query or "").strip()
    if not query:
        return []
    if cases.CASE_NUMBER.fullmatch(query.upper()):
        found = cases.get_by_number(session, query)
        return [found] if found else []
    if "@" in query:
        email = normalise_email(query)
        return list(session.exec(select(Case).where(or_(func.lower(Case.contact_email) == email,
                                                        func.lower(Case.hint_email) == email))
                                 .order_by(Case.id.desc()).limit(limit)))
    digits = normalise_phone(query).lstrip("+")
    if len(digits) < MIN_PHONE_DIGITS:
        return []
    # stored as the claimant typed it: narrow by the last digit in SQL, compare the digits here, with or
    # without the country code (one ends with the other)
    candidates = session.exec(select(Case).where(Case.hint_phone.like(f"%{digits[-1]}")).order_by(Case.id.desc()))
    return [case for case in candidates if _same_phone(normalise_phone(case.hint_phone).lstrip("+"), digits)][:limit]


def _same_phone(stored: str, typed: str) -> bool:
    shorter, longer = sorted((stored, typed), key=len)
    return len(shorter) >= MIN_PHONE_DIGITS and longer.endswith(shorter)


def erase_case(session: Session, case: Case, *, actor: audit.Actor, reason: str, open_too: bool = False,
               origin: audit.Origin | None = None, merge_search_index: bool = True) -> Erased | None:
    """Erase ``case``'s personal data in the caller's transaction; None when it already was.

    A case that is not closed is refused (``case_open``) unless ``open_too``: then its open
    actions are cancelled and it is closed first, all in this transaction. After the commit
    the files go, and (unless the caller does it once for many, ``merge_search_index``) the
    words of the erased text leave SQLite's full-text index (``forget_search_words``).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ErasureRefused("reason_required", "Say why the data is erased (a request or ticket reference).",
                             "reason")
    case = lock(session, case.id)
    if case.erased_at is not None:
        return None
    if case.status != CaseStatus.closed:
        if not open_too:
            raise ErasureRefused("case_open", f"{case.number} is {case.status.value}: close it first, or erase it "
                                              "with the override for open cases.")
        called_off = actions.call_off_for_erasure(session, case, actor=actor, reason="personal data erased",
                                                  origin=origin)
        cases.close_for_erasure(session, case, actor=actor, origin=origin)
    else:
        called_off = 0
    erased = Erased(case.number, needles=_needles(case), merge_search_index=merge_search_index)
    erased.counts = {"actions_cancelled": called_off, **_erase_evidence(session, case, erased),
                     **_erase_conversation(session, case), **_erase_traces(session, case, erased)}
    _blank_case(case)
    session.add(case)
    session.flush()
    # the values the trail names by fingerprint (this transaction's too), then the erasure's own
    # event: its reason, a ticket reference, stays readable (kept apart, erasable like the others)
    personal.erase(session, [case.number], actor=actor, origin=origin)
    audit.record(session, actor=actor, action="case.erased", subject=("case", case.number), case_number=case.number,
                 after=erased.counts, reason=reason, origin=origin)
    _after_commit(session, erased)
    return erased


def erase_account_holder(session: Session, account_id: int, *, actor: audit.Actor, reason: str,
                         origin: audit.Origin | None = None) -> dict[str, int]:
    """Erase what the desk keeps of an account holder (an owner its notices went to): the
    values the trail names by fingerprint under ``account:<id>``, the account's contacts
    recorded when cases about it were filed, and queued or written mail naming them. The
    account itself belongs to the account service (``directory``), which erases its own.
    One transaction with its ``account.holder_erased`` event; a second run finds nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise ErasureRefused("reason_required", "Say why the data is erased (a request or ticket reference).",
                             "reason")
    subject = f"account:{account_id}"
    recorded = session.exec(select(AccountContactRecord).where(AccountContactRecord.account_id == account_id)).all()
    kept = session.exec(select(PersonalValue.value).where(PersonalValue.subject == subject,
                                                          PersonalValue.value.is_not(None))).all()
    values = {value for row in recorded for value in (row.email, row.phone) if value} | {
        value for value in kept if isinstance(value, str)}
    needles = tuple(sorted(value for value in values if len(value.strip()) >= 3))
    queued = _queued_naming(session, needles) if needles else []
    for row in (*recorded, *queued):
        session.delete(row)
    session.flush()
    cleared = personal.erase(session, [subject], actor=actor, origin=origin)
    counts = {"contact_records": len(recorded), "queued_mail": len(queued), "trail_values": cleared}
    audit.record(session, actor=actor, action="account.holder_erased", subject=("account", account_id),
                 after=counts, reason=reason, origin=origin)
    folder = Path(current_app.config["MAIL_OUTBOX_DIR"])
    event.listen(session, "after_commit", lambda _session: scrub_outbox(folder, needles), once=True)
    return counts


def _needles(case: Case) -> tuple[str, ...]:
    values = (case.number, case.contact_email, case.hint_email, case.hint_phone, case.claimant_name)
    return tuple(value for value in values if value and len(value.strip()) >= 3)


def _erase_evidence(session: Session, case: Case, erased: Erased) -> dict[str, int]:
    items = session.exec(select(Evidence).where(Evidence.case_id == case.id).with_for_update()).all()
    for item in items:
        erased.files.update((area, sha256) for area, sha256 in (
            ("originals", item.sha256), ("viewable", item.viewable_sha256), ("thumbnails", item.thumbnail_sha256),
            ("print", item.print_sha256)) if sha256)
        erased.files.update(("pages", name) for name in pages.cache_names(item.sha256))
        # the original's SHA-256 and the picture hash stay: they are what later fraud checks compare
        item.original_name, item.exif, item.extracted, item.read_text, item.verdict_note = "", {}, {}, "", None
        item.viewable_sha256 = item.thumbnail_sha256 = item.print_sha256 = None
        session.add(item)
    session.flush()
    ids = [item.id for item in items]
    values = session.exec(delete(ExtractedValue).where(ExtractedValue.evidence_id.in_(ids))).rowcount if ids else 0
    return {"evidence": len(items), "extracted_values": values}


def _erase_conversation(session: Session, case: Case) -> dict[str, int]:
    messages = session.exec(update(Message).where(Message.case_id == case.id).values(body="", requested={})).rowcount
    items = session.exec(update(RequestedItem).where(RequestedItem.case_id == case.id)
                         .values(note="", answer_text=None)).rowcount
    session.exec(update(Action).where(Action.case_id == case.id, Action.cancel_reason.is_not(None))
                 .values(cancel_reason=""))
    return {"messages": messages, "requested_items": items}


def _erase_traces(session: Session, case: Case, erased: Erased) -> dict[str, int]:
    contacts = session.exec(delete(AccountContactRecord).where(AccountContactRecord.case_id == case.id)).rowcount
    session.exec(delete(CasePresence).where(CasePresence.case_id == case.id))
    logins = [value for value in (case.contact_email, case.hint_email, case.hint_phone) if value]
    hashes = [unknown_login_hash(session, login) for login in logins] \
        + [unknown_email_hash(session, login) for login in logins if "@" in login]
    failures = session.exec(delete(SignInFailure).where(SignInFailure.login_hash.in_(hashes))).rowcount \
        if logins else 0
    queued = _queued_naming(session, erased.needles)
    # an agent's saved queue search for the claimant's name or address is about them too
    views = [view for view in session.exec(select(SavedQueueView)).all()
             if _names_any(f"{view.name}\n{unquote_plus(view.query)}", erased.needles)]
    for row in (*queued, *views):
        session.delete(row)
    session.flush()
    return {"contact_records": contacts, "sign_in_failures": failures, "queued_mail": len(queued),
            "saved_views": len(views)}


def _blank_case(case: Case) -> None:
    case.claimant_name = case.contact_email = case.imei1 = ""
    case.hint_account_id = case.hint_email = case.hint_phone = case.imei2 = None
    case.serial = case.shop = case.purchase_date = None
    case.flag_reason = case.decision_reason = case.decision_note = None
    case.checks = []
    case.erased_at = case.updated_at = utcnow()


def _queued_naming(session: Session, needles: tuple[str, ...]) -> list[OutgoingMessage]:
    """The mail not yet sent whose recipient, subject or body names any of ``needles``."""
    return [message for message in session.exec(select(OutgoingMessage)).all()
            if _names_any(f"{message.recipient}\n{message.subject or ''}\n{message.body}", needles)]


def _names_any(text: str, needles: tuple[str, ...]) -> bool:
    folded = text.casefold()
    return any(re.search(rf"(?<!\w){re.escape(needle.casefold())}(?!\w)", folded) for needle in needles)


# -- after the commit: files and written mail ------------------------------------------------


def _after_commit(session: Session, erased: Erased) -> None:
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _cleanup)
        event.listen(session, "after_soft_rollback", _forget)
    pending.append(erased)


def _cleanup(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, [])
    # first the line a restore reads (an older backup must not bring these back), then the files;
    # a ledger that cannot be written is caught up by the daily retention run
    try:
        erasure_ledger.note(current_app, [(erased.number, None) for erased in pending])
    except OSError:
        log.exception("erasure ledger not written for %s", ", ".join(erased.number for erased in pending))
    for erased in pending:
        delete_files(storage(), erased.files)
        scrub_outbox(Path(current_app.config["MAIL_OUTBOX_DIR"]), erased.needles)
    if any(erased.merge_search_index for erased in pending):
        forget_search_words(session.get_bind())


def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def forget_search_words(engine: Engine) -> None:
    """SQLite: merge the full-text indexes (migration search_1), so the words of erased text
    leave the index's pages too. FTS5 keeps a deleted row's words in its segments until they
    are merged; PostgreSQL's generated search columns change with the row itself."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as connection:
        for index in SQLITE_SEARCH_INDEXES:
            connection.exec_driver_sql(f"INSERT INTO {index}({index}) VALUES ('optimize')")


def delete_files(files: Storage, candidates: set[tuple[str, str]]) -> int:
    """Delete ``candidates`` that no evidence of a case not erased references; returns how many went.

    Decided under the storage lock on a fresh read, as ``written.settle`` decides: a request
    committing a new reference to one of them meanwhile writes it back after us.
    """
    removed = 0
    with files.locked(), Session(db.reader()) as session:
        kept = written.live_references(session, candidates)
        live_originals = {sha256 for area, sha256 in kept if area == "originals"}
        live_pages = {name for sha256 in live_originals for name in pages.cache_names(sha256)}
        for area, name in candidates:
            if (area, name) in kept or (area == "pages" and name in live_pages):
                continue
            if files.exists(area, name):
                files.delete(area, name)
                removed += 1
    return removed


def scrub_outbox(folder: Path, needles: tuple[str, ...]) -> int:
    """Delete the written emails and SMS (``mail``'s outbox folder) that name any of ``needles``."""
    removed = 0
    for path in sorted(folder.glob("*")) if folder.is_dir() else ():
        if path.is_file() and not path.name.startswith(".") and _names_any(_outbox_text(path), needles):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _outbox_text(path: Path) -> str:
    """A written message as people read it: an email's headers and decoded body, an SMS as it is."""
    data = path.read_bytes()
    if path.suffix != ".eml":
        return data.decode("utf-8", "replace")
    email = message_from_bytes(data, policy=policy.default)
    parts = [f"{name}: {value}" for name, value in email.items()]
    parts += [part.get_content() for part in email.walk() if part.get_content_maintype() == "text"]
    return "\n".join(str(part) for part in parts)
