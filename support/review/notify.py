"""Emails to the claimant about their case, in the case's language, queued with the change."""
from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from sqlmodel import Session

from .. import links, mail
from ..models import Case
from .labels import EVIDENCE_KINDS


def email_claimant(session: Session, case: Case, *, template: str, subject, **context) -> None:
    """Render ``review/email/<template>.txt`` in the case's language; sent once ``session`` commits.

    ``subject`` is a lazy_gettext string with ``%(number)s``, translated under the same locale.
    """
    with force_locale(case.language or "en"):
        body = render_template(f"review/email/{template}.txt", case=case, evidence_kinds=EVIDENCE_KINDS,
                               case_url=links.case_page(case), **context)
        text_subject = str(subject) % {"number": case.number}
    mail.queue_email(session, to=case.contact_email, subject=text_subject, body=body, language=case.language or "en")
