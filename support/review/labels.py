"""Translated names of statuses, kinds, evidence kinds and checks, for pages and emails."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

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
}
#: the action an approval leads to, per kind (executed by the approvals feature)
ACTIONS = {
    "locked_account": _l("Unlock the account"), "lost_credentials": _l("Replace the recovery email"),
    "device_unbind": _l("Force-unbind the device"),
}


def translated(labels: dict) -> dict[str, str]:
    """The labels as plain text in the current language (once per page, not once per row)."""
    return {key: str(label) for key, label in labels.items()}


def as_context() -> dict:
    return {"status_labels": STATUSES, "kind_labels": KINDS, "evidence_kinds": EVIDENCE_KINDS,
            "check_labels": CHECKS, "action_labels": ACTIONS, "translated": translated}
