"""What a claimant does to a case: file it with evidence, confirm the contact, reply,
add evidence, reopen. Shared by the web pages and the JSON API.

Services flush, never commit. Emails to the claimant are rendered in the case's language
and queued in the same transaction (``mail.queue_email``), so nobody is sent a link to a
case that was rolled back.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from flask import current_app, render_template
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session

from . import audit, cases, checklist, checks, erasure, evidence, links, mail
from .models import Agent, Case, CaseStatus, Evidence, EvidenceKind, Message, RequestedItem, RequestedItemKind, utcnow
from .refusals import Refused

#: how long the emailed confirmation link works
CONFIRM_LINK_DAYS = 7
MAX_REPLY_CHARS = 5000

#: evidence kinds in the claimant's words (pages, emails and error messages)
EVIDENCE_LABELS = {
    EvidenceKind.receipt: _l("Purchase receipt"),
    EvidenceKind.box_photo: _l("Photo of the box label with the IMEI"),
    EvidenceKind.device_photo: _l("Photo of the device"),
    EvidenceKind.imei_screen: _l("Photo of the phone's IMEI screen (dial *#06#)"),
    EvidenceKind.sim_proof: _l("Proof that the SIM card is yours"),
    EvidenceKind.id_document: _l("Identity document"),
    EvidenceKind.other: _l("Other file"),
}


class MissingEvidence(Refused):
    """The case kind needs evidence that was not sent; ``missing`` lists the requirements."""

    def __init__(self, missing: list[set[EvidenceKind]]):
        self.missing = missing
        super().__init__("missing_evidence", _("Please add: %(items)s.",
                                               items="; ".join(describe(needed) for needed in missing)), "evidence")


class ClaimantActionRefused(Refused):
    """A reply, upload or reopening the case's state does not allow; ``message`` says why."""


def describe(needed: set[EvidenceKind]) -> str:
    """One requirement in words: "Purchase receipt", or for alternatives (either file is
    enough) "one of Identity document or Purchase receipt"."""
    words = _(" or ").join(sorted(str(EVIDENCE_LABELS[kind]) for kind in needed))
    return _("one of %(items)s", items=words) if len(needed) > 1 else words


def _actor(case: Case) -> audit.Actor:
    return audit.Actor("claimant", case.number, case.claimant_name)


# -- filing -------------------------------------------------------------------------------


def file_case_with_evidence(
    session: Session,
    *,
    claim: cases.Claim,
    uploads: list[evidence.Upload | evidence.Inspected],
    config,
    origin: audit.Origin | None = None,
) -> tuple[Case, str]:
    """File a ``submitted`` case with its evidence and email the confirmation link.

    Refuses with ``MissingEvidence`` (nothing done) or ``evidence.EvidenceRejected``;
    on any failure no case or evidence row is kept, nor a stored file no committed row references.
    Returns the case and its private token (show it once; it is stored only hashed).
    """
    missing = evidence.missing_evidence(claim.kind, [upload_kind(upload) for upload in uploads])
    if missing:
        raise MissingEvidence(missing)
    with session.begin_nested():
        case, token = cases.file_case(session, claim=claim, config=config, origin=origin)
        for upload in uploads:
            evidence.attach(session, case=case, upload=upload, uploaded_by="claimant", config=config, origin=origin)
        checks.recheck(session, case, config, origin)
        session.flush()
    _email_claimant(session, case, "confirm", subject=_l("Confirm your email for case %(number)s"),
                    confirm_url=links.public("intake.confirm", token=confirmation_token(case, config)),
                    track_url=links.public("intake.track_link", number=case.number, t=token), token=token)
    return case, token


def upload_kind(upload: evidence.Upload | evidence.Inspected) -> EvidenceKind:
    return upload.upload.kind if isinstance(upload, evidence.Inspected) else upload.kind


def confirmation_token(case: Case, config) -> str:
    """A signed, expiring token naming the case and the address it was sent to."""
    return _serializer(config).dumps({"number": case.number, "email": case.contact_email})


def _serializer(config) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt="intake.confirm-contact")


def confirm_contact_link(session: Session, token: str, origin: audit.Origin | None = None, *, config=None) -> Case | None:
    """Confirm the contact email from the emailed link; the case moves to ``new``.

    Returns the case (also when it was already confirmed), or None for a link that is
    forged, expired, or names an address the case no longer has.
    """
    config = config or current_app.config
    try:
        claim = _serializer(config).loads(token, max_age=int(timedelta(days=CONFIRM_LINK_DAYS).total_seconds()))
    except BadSignature:
        return None
    case = cases.get_by_number(session, str(claim.get("number", "")), for_update=True)
    if case is None or erasure.is_erased(session, case.id) or case.contact_email != claim.get("email"):
        return None
    if cases.confirm_contact(session, case, origin=origin):
        checks.recheck(session, case, config, origin)
        _email_claimant(session, case, "received", subject=_l("We received your case %(number)s"))
    return case


# -- after filing -------------------------------------------------------------------------


def _refuse_if_erased(session: Session, case: Case) -> None:
    """Refuse any input to a case whose data was erased. The case row is locked and read again
    first, so an erasure committing at the same moment either erases this input too or is seen."""
    if erasure.is_erased(session, case.id):
        raise ClaimantActionRefused("case_erased", _("The personal data of this case was erased: it takes no "
                                                     "more messages or files. Please file a new case."))


def _refuse_if_closed(session: Session, case: Case) -> None:
    _refuse_if_erased(session, case)
    if case.status == CaseStatus.closed:
        raise ClaimantActionRefused("case_closed", _("This case is closed. Reopen it first if you still need help."))


def add_claimant_evidence(
    session: Session,
    case: Case,
    uploads: list[evidence.Upload | evidence.Inspected],
    config,
    origin: audit.Origin | None = None,
) -> list[Evidence]:
    """Attach more evidence from the claimant; a waiting case goes back to review once
    every requested item is answered.

    Each file answers the first open requested item of its kind, if any (the API and the
    general upload form answer the checklist too). Refuses with ``ClaimantActionRefused``
    on a closed case or ``EvidenceRejected``; on failure nothing of this call is kept.
    """
    _refuse_if_closed(session, case)
    if not uploads:
        raise ClaimantActionRefused("empty", _("Please choose at least one file."), "evidence")
    with session.begin_nested():
        added = [evidence.attach(session, case=case, upload=upload, uploaded_by="claimant", config=config,
                                 origin=origin) for upload in uploads]
        waiting = [item for item in checklist.open_items(session, case) if item.kind == RequestedItemKind.upload]
        for added_item in added:
            match = next((item for item in waiting if item.evidence_kind == added_item.kind), None)
            if match is not None:
                waiting.remove(match)
                checklist.answer_with_file(session, case, match, added_item, actor=_actor(case), origin=origin)
        checks.recheck(session, case, config, origin)
        _back_to_review(session, case, origin, f"The claimant added {len(added)} file(s).", files=len(added))
        session.flush()
    return added


def claimant_reply(session: Session, case: Case, body: str, origin: audit.Origin | None = None) -> Message:
    """A public message from the claimant; a waiting case goes back to review.

    Refuses with ``ClaimantActionRefused`` for an empty or over-long text or a closed case.
    """
    _refuse_if_closed(session, case)
    body = (body or "").strip()
    if not body:
        raise ClaimantActionRefused("empty", _("Please write a message."), "body")
    if len(body) > MAX_REPLY_CHARS:
        raise ClaimantActionRefused("too_long", _("Please keep the message under %(count)s characters.",
                                                  count=MAX_REPLY_CHARS), "body")
    message = cases.add_message(session, case, body=body, actor=_actor(case), origin=origin)
    for item in checklist.open_items(session, case):  # a reply answers the open questions
        if item.kind == RequestedItemKind.question:
            checklist.answer_with_text(session, case, item, body, actor=_actor(case), origin=origin)
    _back_to_review(session, case, origin, "The claimant replied.")
    return message


def answer_checklist(session: Session, case: Case, *, files: dict[int, evidence.Inspected], texts: dict[int, str],
                     config, origin: audit.Origin | None = None) -> list[RequestedItem]:
    """Answer requested items: a file per upload slot, words per question.

    All or nothing: an item id of another case, or one already answered or cancelled
    (a replayed form), refuses the whole call with ``checklist.ItemRefused``. The case
    goes back to review only when no item is left open.
    """
    _refuse_if_closed(session, case)
    if case.status != CaseStatus.waiting_on_claimant:
        raise checklist.ItemRefused("not_waiting", _("We are not waiting for anything on this case now."))
    if not files and not texts:
        raise ClaimantActionRefused("empty", _("Please choose a file or write an answer for at least one item."))
    answered = []
    with session.begin_nested():
        for item_id, upload in files.items():
            item = checklist.find_open(session, case, item_id)
            if item.kind != RequestedItemKind.upload:
                raise checklist.ItemRefused("wrong_answer", _("Please answer this question in words."))
            upload = replace(upload, upload=replace(upload.upload, kind=item.evidence_kind or EvidenceKind.other))
            added = evidence.attach(session, case=case, upload=upload, uploaded_by="claimant", config=config,
                                    origin=origin)
            answered.append(checklist.answer_with_file(session, case, item, added, actor=_actor(case), origin=origin))
        for item_id, text in texts.items():
            item = checklist.find_open(session, case, item_id)
            text = text.strip()
            if len(text) > MAX_REPLY_CHARS:
                raise ClaimantActionRefused("too_long", _("Please keep the message under %(count)s characters.",
                                                          count=MAX_REPLY_CHARS), f"answer-{item_id}")
            cases.add_message(session, case, body=f"> {item.note}\n\n{text}" if item.note else text,
                              actor=_actor(case), origin=origin)
            answered.append(checklist.answer_with_text(session, case, item, text, actor=_actor(case), origin=origin))
        if files:
            checks.recheck(session, case, config, origin)
        _back_to_review(session, case, origin, "The claimant answered every requested item.", files=len(files))
        session.flush()
    return answered


def reopen(session: Session, case: Case, config, origin: audit.Origin | None = None) -> Case:
    """Reopen a closed case within ``REOPEN_WINDOW_DAYS``; it returns to the queue with a fresh deadline."""
    window = timedelta(days=config["REOPEN_WINDOW_DAYS"])
    _refuse_if_erased(session, case)
    if case.status != CaseStatus.closed or case.closed_at is None or utcnow() - _aware(case.closed_at) > window:
        raise ClaimantActionRefused("cannot_reopen", _("This case can no longer be reopened. Please file a new case."))
    cases.transition(session, case, CaseStatus.new, actor=_actor(case), reason="reopened by the claimant", origin=origin)
    case.sla_due_at = utcnow() + timedelta(hours=cases.sla_hours(case.kind, config))
    session.add(case)
    session.flush()
    checks.recheck(session, case, config, origin)  # it kept the results it was closed with
    return case


def can_reopen(case: Case, config) -> bool:
    return (case.status == CaseStatus.closed and case.closed_at is not None
            and utcnow() - _aware(case.closed_at) <= timedelta(days=config["REOPEN_WINDOW_DAYS"])
            and case.erased_at is None)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes on some paths; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _back_to_review(session: Session, case: Case, origin: audit.Origin | None, what: str, files: int = 0) -> None:
    """A waiting case with no requested item left open moves back to ``in_review``; its
    assignee hears about it in the agent's language, with the agent-side link to the case
    (``what`` is the audit's English reason; ``files`` how many were added)."""
    if case.status != CaseStatus.waiting_on_claimant or checklist.open_items(session, case):
        return  # still waiting for another requested item
    cases.transition(session, case, CaseStatus.in_review, actor=_actor(case), reason=what, origin=origin)
    agent = session.get(Agent, case.assignee_id) if case.assignee_id else None
    if agent is not None:
        with force_locale(agent.language or "en"):
            body = render_template("emails/intake_claimant_update.txt", case=case, agent=agent, files=files,
                                   agent_case_url=links.agent_case_page(case))
            subject = _("Case %(number)s: the claimant answered", number=case.number)
        mail.queue_email(session, to=agent.email, subject=subject, body=body, language=agent.language or "en")


# -- email --------------------------------------------------------------------------------


def _email_claimant(session: Session, case: Case, template: str, *, subject, **context) -> None:
    """Render ``emails/intake_<template>.txt`` in the case's language and queue it with the change."""
    with force_locale(case.language):
        body = render_template(f"emails/intake_{template}.txt", case=case, case_url=links.case_page(case),
                               due=format_datetime(case.sla_due_at) if case.sla_due_at else None, **context)
        text_subject = str(subject) % {"number": case.number}
    mail.queue_email(session, to=case.contact_email, subject=text_subject, body=body, language=case.language)
