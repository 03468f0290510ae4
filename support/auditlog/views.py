"""The audit log for auditors: filters, keyset pages, JSON Lines export; the case timeline panel.

A filter that cannot be read (a bad date, an action no event has) shows its error and no
rows at all, and exports nothing: rows shown under an error would look filtered while not
being so. The page also says how far the chain was last verified (``audit.latest_verification``).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, or_, select

from .. import audit, db, personal
from ..models import AuditEvent, Role
from ..navigation import case_panel, staff_link
from ..web import roles_required
from ..sentences import actor_label, describe, subject_label

bp = Blueprint("auditlog", __name__)

AUDIT_READERS = (Role.auditor, Role.admin, Role.supervisor)
PAGE_SIZE = 50

case_panel("auditlog/_timeline.html")
staff_link("auditlog.index", _l("Audit log"), *AUDIT_READERS)


@bp.app_context_processor
def timeline_helpers():
    return {"case_timeline": _timeline, "describe_event": describe, "actor_label": actor_label,
            "subject_label": subject_label}


def _timeline(case) -> list[AuditEvent]:
    events = list(db.session().exec(select(AuditEvent).where(AuditEvent.case_number == case.number)
                                    .order_by(AuditEvent.seq)))
    return personal.reveal(db.session(), events)


def _moment(text: str, *, end_of_day: bool) -> datetime | None:
    """A date (whole day) or a datetime-local value, read as UTC; None when empty or unreadable."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), timezone.utc)
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _filters() -> dict:
    args = request.args
    return {name: (args.get(name) or "").strip() for name in ("actor", "person", "action", "case", "since", "until")}


def _query(filters: dict):
    """Personal values are in the trail only as keyed fingerprints: a claimant's name, email or
    phone is found by the fingerprint of what is typed (whole values, not parts of them)."""
    query = select(AuditEvent)
    key = personal.key_of(db.session())
    if filters["actor"]:
        actor = filters["actor"]
        query = query.where(or_(AuditEvent.actor_id == actor, AuditEvent.actor_name.ilike(f"%{actor}%"),
                                AuditEvent.actor_name.in_(personal.search_tokens(key, actor))))
    if filters["person"]:
        query = query.where(or_(*(AuditEvent.canonical.contains(f'"{token}"')
                                  for token in personal.search_tokens(key, filters["person"]))))
    if filters["action"]:
        query = query.where(AuditEvent.action.startswith(filters["action"], autoescape=True))
    if filters["case"]:
        query = query.where(AuditEvent.case_number == filters["case"].upper())
    since, until = _moment(filters["since"], end_of_day=False), _moment(filters["until"], end_of_day=True)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    return query


@bp.get("/audit")
@roles_required(*AUDIT_READERS)
def index():
    """Newest first; ``before`` (a sequence number) is the keyset cursor of the next page."""
    filters = _filters()
    invalid = _invalid(filters)
    events, next_before = [], None
    if not invalid:
        query = _query(filters).order_by(AuditEvent.seq.desc()).limit(PAGE_SIZE + 1)
        before = request.args.get("before", "")
        if before.isdigit():
            query = query.where(AuditEvent.seq < int(before))
        events = list(db.session().exec(query))
        next_before = events[PAGE_SIZE - 1].seq if len(events) > PAGE_SIZE else None
    shown = personal.reveal(db.session(), events[:PAGE_SIZE])
    return render_template("auditlog/index.html", events=shown, filters=filters,
                           next_before=next_before, bad_dates=[name for name in invalid if name != "action"],
                           invalid=invalid, verification=audit.latest_verification(db.session())), \
        422 if invalid else 200


#: what an action filter may look like: dotted lower-case words, or the start of one
_ACTION = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]*)*")


def _invalid(filters: dict) -> list[str]:
    """The filters that cannot be read: unreadable dates, an action no event has (nor starts with)."""
    bad = [name for name in ("since", "until") if filters[name] and _moment(filters[name], end_of_day=False) is None]
    action = filters["action"]
    if action and (not _ACTION.fullmatch(action) or db.session().exec(
            select(AuditEvent.seq).where(AuditEvent.action.startswith(action, autoescape=True)).limit(1)).first()
            is None):
        bad.append("action")
    return bad


@bp.get("/audit/export.jsonl")
@roles_required(*AUDIT_READERS)
def export():
    """Every matching event, oldest first, one JSON object a line (hashes included, to re-verify);
    422 while a filter cannot be read, rather than everything unfiltered. The fields are the
    hashed ones (personal values as tokens); ``personal`` maps each token to its value (null
    once erased, or when the value no longer matches its fingerprint)."""
    filters = _filters()
    if _invalid(filters):
        abort(422)
    query = _query(filters).order_by(AuditEvent.seq).execution_options(yield_per=1000)

    key = personal.key_of(db.session())

    def lines():  # its own session: the request's one is closed before the body streams
        with Session(db.reader()) as session:
            for events in session.exec(query).partitions(1000):
                values = personal.personal_map(session, events, key)
                for event in events:
                    yield json.dumps(audit.as_dict(event, values.get(event.seq)), ensure_ascii=False,
                                     sort_keys=True) + "\n"

    return Response(stream_with_context(lines()), mimetype="application/x-ndjson",
                    headers={"Content-Disposition": "attachment; filename=audit.jsonl"})
