"""The claimant's copy of the case report, built from an allow-list.

The internal report shows everything and was once trimmed for the claimant, which let
the old owner's contacts, agents' names, addresses, other case numbers and the fraud
checks through in its timeline and attached audit events. This copy starts from
nothing and takes only what is the claimant's own: what they told us, the files they
sent, the public conversation (every agent signs as "Support team"), the decision's public
reason, and the steps of the case as neutral sentences, which are also its attachment
(``case-steps.json``). Audit events whose action is not listed in ``_STEPS`` never
appear; no event's actor, origin, before/after values or reason is ever printed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, ClassVar

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlmodel import Session, select

from .. import audit, cases
from ..models import AuditEvent, Case, Evidence, utcnow
from ..labels import label

TEMPLATE = "reports/claimant.html"
#: the file name of the steps inside the PDF
ATTACHMENT_NAME = "case-steps.json"


@dataclass(frozen=True)
class Step:
    """One step of the case as the claimant may read it."""

    at: datetime
    #: the audit action it comes from, e.g. "case.transition"
    step: str
    text: str

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "step": self.step, "text": self.text}


@dataclass(frozen=True)
class Said:
    """One public message: who (you, the support team or Recovery Desk), when, what."""

    at: datetime
    author: str
    body: str


@dataclass
class ClaimantCopy:
    """Everything the claimant's copy shows, and nothing else."""

    for_claimant: ClassVar[bool] = True

    case: Case  # for the audit event and the evidence pictures only; the template prints ``facts``
    language: str
    generated_at: datetime
    generated_by: audit.Actor
    #: (label, value) rows of the claimant's own statements and the case's state
    facts: list[tuple[str, object]]
    evidence: list[Evidence]
    messages: list[Said]
    decision: tuple[str, str] | None
    steps: list[Step]
    head: AuditEvent | None

    @property
    def events(self) -> list[Step]:
        """What the "report.generated" event counts for this copy."""
        return self.steps


def _yours(event: AuditEvent) -> bool:
    return event.actor_type == "claimant"


def _kind(event: AuditEvent) -> str:
    return label((event.after or {}).get("kind"))


#: the audit actions a claimant sees, each as a sentence that names no one but "you"
_STEPS: dict[str, Callable[[AuditEvent], str]] = {
    "case.filed": lambda event: _("The case was filed."),
    "case.contact_confirmed": lambda event: _("Your contact email was confirmed."),
    "case.transition": lambda event: _("The case is now: %(status)s.", status=label((event.after or {}).get("status"))),
    "case.reminded": lambda event: _("We reminded you that we are waiting for your answer."),
    "evidence.added": lambda event: (_("You sent a file: %(kind)s.", kind=_kind(event)) if _yours(event)
                                     else _("A file was added: %(kind)s.", kind=_kind(event))),
    "message.public": lambda event: (_("You wrote to the support team.") if _yours(event)
                                     else _("The support team wrote to you.")),
    "action.requested": lambda event: _("Requested: %(kind)s.", kind=_kind(event)),
    "action.approved": lambda event: _("Approved: %(kind)s.", kind=_kind(event)),
    "action.executed": lambda event: _("Done: %(kind)s.", kind=_kind(event)),
    "action.cancelled": lambda event: _("Cancelled: %(kind)s.", kind=_kind(event)),
}


def gather(session: Session, case: Case, *, language: str, generated_by: audit.Actor) -> ClaimantCopy:
    """Read the claimant's copy of ``case``; texts are written in ``language``."""
    events = session.exec(select(AuditEvent).where(AuditEvent.case_number == case.number,
                                                   AuditEvent.action.in_(list(_STEPS)))
                          .order_by(AuditEvent.seq))
    evidence = session.exec(select(Evidence).where(Evidence.case_id == case.id, Evidence.uploaded_by == "claimant")
                            .order_by(Evidence.created_at, Evidence.id))
    with force_locale(language):
        return ClaimantCopy(
            case=case, language=language, generated_at=utcnow(), generated_by=generated_by,
            facts=_facts(case), evidence=list(evidence),
            messages=[Said(message.created_at, _author(message.author_type), message.body)
                      for message in cases.public_messages(session, case)],
            decision=(label(case.decision), case.decision_reason or "—") if case.decision else None,
            steps=[Step(event.at, event.action, _STEPS[event.action](event)) for event in events],
            head=audit.head(session),
        )


def _author(author_type: str) -> str:
    return {"claimant": _("You"), "agent": _("Support team")}.get(author_type, _("Recovery Desk"))


def _facts(case: Case) -> list[tuple[str, object]]:
    """The case's state and what the claimant told us; remembered contacts only masked."""
    purchased = ", ".join(filter(None, (case.purchase_date and case.purchase_date.isoformat(), case.shop)))
    kept = [(_("Number"), case.number), (_("Kind"), label(case.kind)), (_("Status"), label(case.status)),
            (_("Filed"), case.created_at), (_("Closed"), case.closed_at)]
    if case.erased_at is not None:  # the template says so; nothing the claimant told us is left
        return kept
    return [
        *kept,
        (_("Name"), case.claimant_name), (_("Contact email"), case.contact_email), (_("Language"), label(case.language)),
        (_("Account ID remembered"), mask(case.hint_account_id)), (_("Old email remembered"), mask(case.hint_email)),
        (_("Old phone remembered"), mask(case.hint_phone)),
        (_("IMEI 1"), case.imei1), (_("IMEI 2"), case.imei2), (_("Serial number"), case.serial),
        (_("Model"), case.model), (_("Purchased"), purchased),
    ]


def mask(value: str | None) -> str | None:
    """A remembered email, phone or account ID, kept recognisable but not usable:
    ``anna.1@demo.test`` -> ``a•••@demo.test``, ``+393312345678`` -> ``+39•••78``."""
    if not value:
        return None
    if "@" in value:
        name, _at, domain = value.partition("@")
        return f"{name[:1]}•••@{domain}"
    return f"{value[:3]}•••{value[-2:]}" if len(value) > 6 else "•••"


def steps_attachment(copy: ClaimantCopy) -> bytes:
    """The attachment: the case number and its steps, nothing else."""
    return json.dumps({"case": copy.case.number, "steps": [step.as_dict() for step in copy.steps]},
                      ensure_ascii=False, indent=1).encode()
