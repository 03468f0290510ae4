"""Audit events as sentences a person reads: the case timeline, the audit log, the report.

Every action the app records has a sentence here (``SENTENCES``; a test scans the code for
recorded actions and fails on one without a sentence). An event of an unknown action still
reads as "<who>: <action>", so an old event or a new feature never breaks the timeline.
Statuses and kinds are the enums' titles; reasons the system wrote (in English, in the
trail) are translated when they are known, and reasons people typed are shown as typed.
"""
from __future__ import annotations

import re
from typing import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from .labels import label
from .models import (ActionKind, ActorType, AuditEvent, CaseKind, CaseStatus, EvidenceKind, ExtractedKind, JobState,
                     Language, Role, SubjectType, Verdict)


def _who(event: AuditEvent) -> str:
    if event.actor_type == ActorType.agent:
        return event.actor_name or _("Agent %(id)s", id=event.actor_id)
    if event.actor_type == ActorType.claimant:
        return _("The claimant")
    if event.actor_type == ActorType.account:
        return _("The account owner (%(id)s)", id=event.actor_id)
    if event.actor_type == ActorType.cli:
        return _("An administrator on the command line")
    if event.actor_type == ActorType.anonymous:
        return _("Someone not signed in")
    return _("The system")


def _get(side: dict | None, key: str, default: str = "?") -> str:
    value = (side or {}).get(key)
    return default if value is None else str(value)


class _Event:
    """What a sentence reads of an event: who, before, after, and titles of stored values."""

    def __init__(self, event: AuditEvent):
        self.event, self.who = event, _who(event)
        self.before, self.after = event.before or {}, event.after or {}

    def get(self, key: str, side: str = "after") -> str:
        return _get(self.after if side == "after" else self.before, key)

    def title(self, key: str, enum, side: str = "after") -> str:
        value = (self.after if side == "after" else self.before).get(key)
        return enum.title_of(value) if value is not None else "?"

    @property
    def subject(self) -> str:
        return self.event.subject_id or "?"


def _message(e: _Event, internal: bool) -> str:
    """Who wrote to whom: an agent to the claimant, the claimant to the desk, a note among agents."""
    if internal:
        return _("%(who)s added an internal note.", who=e.who)
    if e.event.actor_type == ActorType.claimant:
        return _("The claimant wrote to the desk.")
    if e.after.get("requested"):
        return _("%(who)s wrote to the claimant and asked for more evidence.", who=e.who)
    return _("%(who)s wrote to the claimant.", who=e.who)


def _changed_fields(e: _Event) -> str:
    return ", ".join(sorted(key for key in e.after if key not in ("imei1",))) or "—"


SENTENCES: dict[str, Callable[[_Event], str]] = {
    # cases
    "case.filed": lambda e: _("%(who)s filed the case (%(kind)s).", who=e.who, kind=e.title("kind", CaseKind)),
    "case.contact_confirmed": lambda e: _("%(who)s confirmed the contact email.", who=e.who),
    "case.transition": lambda e: _("%(who)s moved the case from “%(old)s” to “%(new)s”.", who=e.who,
                                   old=e.title("status", CaseStatus, "before"), new=e.title("status", CaseStatus)),
    "case.approved": lambda e: _("%(who)s approved the case.", who=e.who),
    "case.rejected": lambda e: _("%(who)s rejected the case.", who=e.who),
    "case.claimed": lambda e: _("%(who)s took the case.", who=e.who),
    "case.released": lambda e: _("%(who)s gave the case back to the queue.", who=e.who),
    "case.reassigned": lambda e: _("%(who)s assigned the case to another agent.", who=e.who)
    if e.after.get("assignee_id") is not None else _("%(who)s left the case unassigned.", who=e.who),
    "case.flagged": lambda e: _("%(who)s flagged the case for a supervisor.", who=e.who),
    "case.flag_cleared": lambda e: _("%(who)s cleared the flag.", who=e.who),
    "case.reminded": lambda e: _("%(who)s reminded the claimant that an answer is awaited.", who=e.who),
    "case.sla_breached": lambda e: _("The case passed its due time without an answer from the desk."),
    "case.erased": lambda e: _("%(who)s erased the claimant's personal data.", who=e.who),
    # messages
    "message.public": lambda e: _message(e, internal=False),
    "message.internal": lambda e: _message(e, internal=True),
    # evidence
    "evidence.added": lambda e: _("%(who)s added a file: %(kind)s.", who=e.who, kind=e.title("kind", EvidenceKind)),
    "evidence.analysed": lambda e: _("%(who)s read file %(id)s: %(count)s values found.", who=e.who, id=e.subject,
                                     count=e.get("values")),
    "evidence.original_downloaded": lambda e: _("%(who)s downloaded the original of file %(id)s.", who=e.who,
                                                id=e.subject),
    "evidence.print_copy_added": lambda e: _("%(who)s made the print copy of file %(id)s.", who=e.who, id=e.subject),
    "evidence.rehashed": lambda e: _("%(who)s recomputed the picture fingerprint of file %(id)s.", who=e.who,
                                     id=e.subject),
    "evidence.value_corrected": lambda e: _("%(who)s corrected the %(kind)s read from file %(id)s: %(old)s → %(new)s.",
                                            who=e.who, kind=e.title("kind", ExtractedKind), id=e.subject,
                                            old=e.get("value", "before"), new=e.get("value")),
    "evidence.value_added": lambda e: _("%(who)s added the %(kind)s %(new)s to file %(id)s.", who=e.who,
                                        kind=e.title("kind", ExtractedKind), new=e.get("value"), id=e.subject),
    "evidence.pdf_drawn": lambda e: _("%(who)s drew the pages of PDF file %(id)s.", who=e.who, id=e.subject),
    "evidence.thumbnail_redrawn": lambda e: _("%(who)s drew the thumbnail of file %(id)s again.", who=e.who,
                                              id=e.subject),
    "evidence.verdict_set": lambda e: _("%(who)s judged file %(id)s: %(verdict)s.", who=e.who, id=e.subject,
                                        verdict=e.title("verdict", Verdict)),
    "checklist.requested": lambda e: _("%(who)s asked the claimant for %(count)s item(s).", who=e.who,
                                       count=len(e.after.get("items") or [])),
    "checklist.answered": lambda e: _("%(who)s answered requested item %(id)s.", who=e.who, id=e.subject),
    "checklist.cancelled": lambda e: _("The requested items still open were cancelled: the case stopped waiting."),
    # privileged actions
    "action.requested": lambda e: _("%(who)s requested the action “%(kind)s”.", who=e.who,
                                    kind=e.title("kind", ActionKind)),
    "action.approved": lambda e: _("%(who)s approved the action “%(kind)s”.", who=e.who,
                                   kind=e.title("kind", ActionKind)),
    "action.executed": lambda e: _("%(who)s executed the action “%(kind)s”.", who=e.who,
                                   kind=e.title("kind", ActionKind)),
    "action.cancelled": lambda e: _("%(who)s cancelled the action “%(kind)s”.", who=e.who,
                                    kind=e.title("kind", ActionKind)),
    "action.voided": lambda e: _("The action “%(kind)s” became void: the evidence or checks changed.",
                                 kind=e.title("kind", ActionKind)),
    "action.held": lambda e: _("The action “%(kind)s” was held for supervisor review.",
                               kind=e.title("kind", ActionKind)),
    "report.generated": lambda e: _("%(who)s generated the case report (%(language)s).", who=e.who,
                                    language=e.title("language", Language))
    if not e.after.get("for_claimant") else _("%(who)s generated the claimant's copy of the case (%(language)s).",
                                              who=e.who, language=e.title("language", Language)),
    # the account directory
    "account.created": lambda e: _("%(who)s created account %(id)s.", who=e.who, id=e.subject),
    "account.updated": lambda e: _("%(who)s changed account %(id)s (%(fields)s).", who=e.who, id=e.subject,
                                   fields=_changed_fields(e)),
    "account.locked": lambda e: _("Account %(id)s was locked after %(count)s wrong passwords.", id=e.subject,
                                  count=e.get("failed_attempts")),
    "account.language_set": lambda e: _("%(who)s set the language of account %(id)s to %(language)s.", who=e.who,
                                        id=e.subject, language=e.title("language", Language)),
    "account.password_reset": lambda e: _("%(who)s set a new password.", who=e.who),
    "account.reset_requested": lambda e: _("%(who)s asked for a password reset link.", who=e.who),
    "device.created": lambda e: _("%(who)s added device %(id)s to the directory.", who=e.who, id=e.subject),
    "device.updated": lambda e: _("%(who)s changed device %(id)s (%(fields)s).", who=e.who, id=e.subject,
                                  fields=_changed_fields(e)),
    "device.bound": lambda e: _("%(who)s bound device %(imei)s to account %(account)s.", who=e.who,
                                imei=e.get("imei1"), account=e.get("account_id")),
    "device.unbound": lambda e: _("%(who)s unbound device %(imei)s from account %(account)s.", who=e.who,
                                  imei=e.get("imei1"), account=e.get("account_id", "before")),
    "device.flagged_lost": lambda e: _("%(who)s reported device %(imei)s lost or stolen.", who=e.who,
                                       imei=e.get("imei1")),
    "device.flag_cleared": lambda e: _("%(who)s cleared the lost-or-stolen report of device %(imei)s.", who=e.who,
                                       imei=e.get("imei1")),
    # agents
    "agent.created": lambda e: _("%(who)s created the agent %(email)s (%(role)s).", who=e.who, email=e.get("email"),
                                 role=e.title("role", Role)),
    "agent.signed_in": lambda e: _("%(who)s signed in.", who=e.who),
    "agent.sign_in_failed": lambda e: _("A sign-in as %(email)s failed.", email=e.get("email")),
    "agent.sign_in_refused": lambda e: _("A sign-in as %(email)s was refused for now.", email=e.get("email")),
    "agent.signed_out": lambda e: _("%(who)s ended every session of agent %(id)s.", who=e.who, id=e.subject),
    "agent.password_changed": lambda e: _("%(who)s changed the password of agent %(id)s.", who=e.who, id=e.subject),
    "agent.role_changed": lambda e: _("%(who)s changed the role of agent %(id)s from %(old)s to %(new)s.", who=e.who,
                                      id=e.subject, old=e.title("role", Role, "before"), new=e.title("role", Role)),
    "agent.activated": lambda e: _("%(who)s gave agent %(id)s access again.", who=e.who, id=e.subject),
    "agent.reactivated": lambda e: _("%(who)s gave agent %(id)s access again.", who=e.who, id=e.subject),
    "agent.invited": lambda e: _("%(who)s invited %(email)s to join as %(role)s.", who=e.who, email=e.get("email"),
                                 role=e.title("role", Role)),
    "agent.password_reset": lambda e: _("%(who)s reset the password of agent %(id)s.", who=e.who, id=e.subject),
    "agent.deactivated": lambda e: _("%(who)s deactivated agent %(id)s.", who=e.who, id=e.subject),
    "agent.totp_enrolled": lambda e: _("%(who)s set up two-step codes.", who=e.who),
    "agent.totp_reset": lambda e: _("%(who)s reset the two-step codes of agent %(id)s.", who=e.who, id=e.subject),
    "agent.language_set": lambda e: _("%(who)s set the language of agent %(id)s to %(language)s.", who=e.who,
                                      id=e.subject, language=e.title("language", Language)),
    # the desk
    "canned_reply.saved": lambda e: _("%(who)s saved the canned reply “%(title)s” (%(language)s).", who=e.who,
                                      title=e.get("title"), language=e.title("language", Language)),
    "canned_reply.deleted": lambda e: _("%(who)s deleted canned reply %(id)s.", who=e.who, id=e.subject),
    "job.retried": lambda e: _("%(who)s ran job %(id)s again (%(state)s).", who=e.who, id=e.subject,
                               state=e.title("state", JobState)),
    "desk.restored": lambda e: _("%(who)s restored the desk from the backup taken at %(taken)s.", who=e.who,
                                 taken=e.get("backup_taken_at")),
    "personal.erased": lambda e: ngettext(
        "%(who)s erased the personal values of %(num)d data subject (%(values)s values).",
        "%(who)s erased the personal values of %(num)d data subjects (%(values)s values).",
        len(e.after.get("subjects") or []), who=e.who, values=e.get("values")),
    "account.holder_erased": lambda e: _("%(who)s erased what the desk kept of the holder of account %(id)s.",
                                         who=e.who, id=e.subject),
    "demo.seeded": lambda e: _("%(who)s filled the directory with demo accounts and devices.", who=e.who),
}

#: recorded under a prefix: ``refused.<code>`` (web.py: a refused privileged request)
PREFIXES: dict[str, Callable[[_Event], str]] = {
    "refused.": lambda e: _("%(who)s was refused: %(what)s.", who=e.who, what=e.event.action.split(".", 1)[1]),
}

#: reasons the system writes into the trail, in English; shown in the reader's language
REASONS = {
    "claimed": _l("the agent took the case"),
    "released": _l("the agent gave the case back"),
    "reassigned": _l("a supervisor assigned the case"),
    "bulk assign": _l("a supervisor assigned the cases in bulk"),
    "more information requested": _l("more information was requested"),
    "no answer from the claimant": _l("no answer from the claimant"),
    "contact email confirmed": _l("the contact email was confirmed"),
    "reopened by the claimant": _l("the claimant reopened the case"),
    "the account owner objected": _l("the account owner objected"),
    "the account owner objected: this was not me": _l("the account owner objected: this was not me"),
    "The claimant replied.": _l("The claimant replied."),
    "recovery completed": _l("the recovery is complete"),
    "rate limit": _l("too many attempts"),
    "wrong email or password": _l("wrong email or password"),
    "the device was reported lost or stolen": _l("the device was reported lost or stolen"),
    "the account was signed in to after the case was filed: supervisor review":
        _l("the account was signed in to after the case was filed: supervisor review"),
    "no one can be told: the account has no contact to notify":
        _l("no one can be told: the account has no contact to notify"),
    "the evidence or checks of the case changed after the request":
        _l("the evidence or checks of the case changed after the request"),
    "personal data erased": _l("personal data erased"),
    "directory import": _l("directory import"),
    "demo": _l("demo"),
    "fixed demo secret": _l("fixed demo secret"),
}
_FILES_ADDED = re.compile(r"The claimant added (\d+) file\(s\)\.")
#: ``retention`` writes "retention: closed more than <N> days ago"
_RETAINED = re.compile(r"retention: closed more than (\d+) days ago")
_EXECUTED = re.compile(r"([a-z_]+) executed")
_THROTTLED = re.compile(r"throttled for (\d+) s")
#: ``objections.flag`` writes "The account owner objected to <WHAT> ("this was not me")."
_OBJECTED = re.compile(r"The account owner objected to (the force-unbind|the recovery-contact change|the unlock) .*")
_OBJECTED_TO = {"the force-unbind": "force_unbind", "the recovery-contact change": "replace_contact",
                "the unlock": "unlock_account"}


def system_reason(reason: str) -> bool:
    """True for a reason the system wrote (known text): it names no one, so it stays readable
    in the trail after an erasure; a typed reason may quote a person (``personal_data``)."""
    return reason in REASONS or any(pattern.fullmatch(reason) for pattern in (_FILES_ADDED, _EXECUTED, _THROTTLED,
                                                                               _OBJECTED))


def reason_text(reason: str) -> str:
    """A reason in the reader's language when the system wrote it; as typed otherwise."""
    if reason in REASONS:
        return str(REASONS[reason])
    if match := _FILES_ADDED.fullmatch(reason):
        count = int(match.group(1))
        return ngettext("The claimant added %(num)d file.", "The claimant added %(num)d files.", count)
    if (match := _EXECUTED.fullmatch(reason)) and match.group(1) in ActionKind.__titles__:
        return _("“%(kind)s” executed", kind=ActionKind.title_of(match.group(1)))
    if match := _RETAINED.fullmatch(reason):
        count = int(match.group(1))
        return ngettext("retention: closed more than %(num)d day ago", "retention: closed more than %(num)d days ago",
                        count)
    if match := _THROTTLED.fullmatch(reason):
        return _("too many attempts: wait %(seconds)s s", seconds=match.group(1))
    if match := _OBJECTED.fullmatch(reason):
        return _("The account owner objected to the action “%(action)s” (“this was not me”).",
                 action=ActionKind.title_of(_OBJECTED_TO[match.group(1)]))
    return reason


def describe(event: AuditEvent) -> str:
    """One sentence for the event, in the reader's language."""
    said = _Event(event)
    sentence = SENTENCES.get(event.action)
    if sentence is None:
        sentence = next((write for prefix, write in PREFIXES.items() if event.action.startswith(prefix)), None)
    text = sentence(said) if sentence else f"{said.who}: {event.action}"
    return f"{text} {_('Reason: %(reason)s', reason=reason_text(str(event.reason)))}" if event.reason else text


def init_app(app) -> None:
    """Templates (pages, emails, reports) read events and stored reasons with these."""
    app.add_template_global(describe, "describe_event")
    app.add_template_global(reason_text, "reason_text")


def actor_label(event: AuditEvent) -> str:
    """The kind of actor in the reader's language (the audit log's actor column)."""
    return label(event.actor_type, ActorType)


def subject_label(event: AuditEvent) -> str:
    """What the event happened to, in the reader's language (the audit log's subject column)."""
    return label(event.subject_type, SubjectType) if event.subject_type else ""

