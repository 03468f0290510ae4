"""Translated names of statuses, kinds, evidence kinds and checks, for pages and emails."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import checks

STATUSES = {
    "submitted": _l("Submitted"), "new": _l("New"), "in_review": _l("In review"),
    "waiting_on_claimant": _l("Waiting on claimant"), "approved": _l("Approved"), "rejected": _l("Rejected"),
    "executed": _l("Executed"), "closed": _l("Closed"),
}
KINDS = {
    "locked_account": _l("Locked account"), "lost_credentials": _l("Lost email and phone"),
    "device_unbind": _l("Device unbind"),
}
EVIDENCE_KINDS = {
    "receipt": _l("Purchase receipt"), "box_photo": _l("Photo of the box label"),
    "device_photo": _l("Photo of the device"), "imei_screen": _l("Photo of the IMEI screen"),
    "sim_proof": _l("Proof of owning the SIM"), "id_document": _l("Identity document"), "other": _l("Other"),
}
CHECKS = {
    "imei_check_digit": _l("IMEI check digit"), "imei_known": _l("IMEI known to the directory"),
    "account_match": _l("Bound account matches the claimant"), "lost_or_stolen": _l("Lost or stolen flag"),
    "required_evidence": _l("Required evidence"), "same_evidence": _l("Same file in other cases"),
    "same_imei": _l("Same IMEI in other cases"), "same_email": _l("Same contact email in other cases"),
    "image_edited": _l("Signs of image editing"), "contact_confirmed": _l("Contact email confirmed"),
    "account_used": _l("Bound account used since filing"),
    "label_imei_match": _l("Box label or IMEI screen shows the claimed IMEI"),
    "screenshot": _l("Receipt is a screenshot"),
    "receipt_imei": _l("Receipt names the claimed IMEI"), "receipt_date": _l("Receipt date matches the claim"),
    "receipt_date_plausible": _l("Receipt date is plausible"),
}
#: what of the account a claimant remembered, as ``checks`` names it
HINTS = {"account ID": _l("account ID"), "email": _l("email"), "phone": _l("phone")}
#: the action an approval leads to, per kind (executed by the approvals feature)
ACTIONS = {
    "locked_account": _l("Unlock the account"), "lost_credentials": _l("Replace the recovery email"),
    "device_unbind": _l("Force-unbind the device"),
}


def translated(labels: dict) -> dict[str, str]:
    """The labels as plain text in the current language (once per page, not once per row)."""
    return {key: str(label) for key, label in labels.items()}


def check_detail(check: dict) -> str:
    """A check's one-line detail in the current language, from the message and arguments
    ``checks`` kept; the stored English line for a result saved without them."""
    message = check.get("message")
    if not message:
        return check.get("detail", "")
    return _(message, **{key: _argument(key, value) for key, value in (check.get("args") or {}).items()})


def _argument(key: str, value) -> str:
    if key == "kinds":  # requirements, each a list of kinds any one of which satisfies it
        either = " %s " % _("or")
        return ", ".join(either.join(str(EVIDENCE_KINDS.get(kind, kind)) for kind in needed) for needed in value)
    if key == "kind":
        return str(EVIDENCE_KINDS.get(value, value))
    if key == "hints":
        return ", ".join(str(HINTS.get(hint, hint)) for hint in value)
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def as_context() -> dict:
    return {"status_labels": STATUSES, "kind_labels": KINDS, "evidence_kinds": EVIDENCE_KINDS,
            "check_labels": CHECKS, "action_labels": ACTIONS, "translated": translated, "check_detail": check_detail,
            "check_points": checks.points}
