"""Audit events as sentences a person reads on the case timeline.

Known actions get a sentence; any other event falls back to "<who>: <action>", so a
feature that adds events never breaks the timeline.
"""
from __future__ import annotations

from flask_babel import gettext as _

from ..models import AuditEvent


def _who(event: AuditEvent) -> str:
    if event.actor_type == "agent":
        return event.actor_name or _("Agent %(id)s", id=event.actor_id)
    if event.actor_type == "claimant":
        return _("The claimant")
    if event.actor_type == "account":
        return _("The account owner (%(id)s)", id=event.actor_id)
    return event.actor_name or _("The system")


def _get(side: dict | None, key: str, default: str = "?") -> str:
    value = (side or {}).get(key)
    return default if value is None else str(value)


def describe(event: AuditEvent) -> str:
    """One sentence for the event, in the reader's language."""
    who, before, after = _who(event), event.before, event.after
    sentences = {
        "case.filed": lambda: _("%(who)s filed the case.", who=who),
        "case.contact_confirmed": lambda: _("%(who)s confirmed the contact email.", who=who),
        "case.transition": lambda: _("%(who)s moved the case from %(old)s to %(new)s.", who=who,
                                     old=_get(before, "status"), new=_get(after, "status")),
        "case.flagged": lambda: _("%(who)s flagged the case for a supervisor.", who=who),
        "case.flag_cleared": lambda: _("%(who)s cleared the flag.", who=who),
        "message.public": lambda: _("%(who)s wrote to the claimant.", who=who),
        "message.internal": lambda: _("%(who)s added an internal note.", who=who),
        "action.requested": lambda: _("%(who)s requested %(kind)s.", who=who, kind=_get(after, "kind")),
        "action.approved": lambda: _("%(who)s approved %(kind)s.", who=who, kind=_get(after, "kind")),
        "action.executed": lambda: _("%(who)s executed %(kind)s.", who=who, kind=_get(after, "kind")),
        "action.cancelled": lambda: _("%(who)s cancelled %(kind)s.", who=who, kind=_get(after, "kind")),
        "action.voided": lambda: _("%(kind)s became void: the evidence or checks changed.", kind=_get(after, "kind")),
        "action.held": lambda: _("%(kind)s was held for supervisor review.", kind=_get(after, "kind")),
    }
    sentence = sentences.get(event.action)
    text = sentence() if sentence else f"{who}: {event.action}"
    return f"{text} {_('Reason: %(reason)s', reason=event.reason)}" if event.reason else text
