"""Words for the report's enum values, translated with the report's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS = {
    # case kinds
    "locked_account": _l("Locked account"),
    "lost_credentials": _l("Lost email and phone"),
    "device_unbind": _l("Device bound to another account"),
    # case statuses
    "submitted": _l("Submitted"),
    "new": _l("New"),
    "in_review": _l("In review"),
    "waiting_on_claimant": _l("Waiting on claimant"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "executed": _l("Executed"),
    "closed": _l("Closed"),
    # evidence kinds
    "receipt": _l("Purchase receipt"),
    "box_photo": _l("Box photo"),
    "device_photo": _l("Device photo"),
    "imei_screen": _l("IMEI screen"),
    "sim_proof": _l("SIM ownership proof"),
    "id_document": _l("Identity document"),
    "other": _l("Other"),
    # actions and their states
    "unlock_account": _l("Unlock account"),
    "replace_contact": _l("Replace recovery contact"),
    "force_unbind": _l("Force-unbind device"),
    "pending_approval": _l("Pending approval"),
    "scheduled": _l("Scheduled"),
    "cancelled": _l("Cancelled"),
    # check results
    "pass": _l("pass"),
    "partial": _l("partial pass"),
    "warn": _l("warning"),
    "fail": _l("fail"),
    "pending": _l("analysing…"),
    # account statuses
    "active": _l("active"),
    "locked": _l("locked"),
    # message authors
    "claimant": _l("Claimant"),
    "agent": _l("Agent"),
    "system": _l("System"),
    "cli": _l("Command line"),
    "account": _l("Account service"),
}


def label(value) -> str:
    """The translated word for an enum member or its value; the value itself when unknown."""
    if value is None:
        return ""
    key = getattr(value, "value", value)
    return str(LABELS.get(key, key))
