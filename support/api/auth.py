"""Bearer-token access to one case: the token from the filing answer is the only credential.

A case whose personal data was erased answers 410 (``case_erased``) once the token
matches. Cookies play no part: a signed-in agent's browser session cannot act on the API, and
a wrong token gets exactly the same 404 as an unknown case number, so neither can be
probed for.
"""
from __future__ import annotations

import re

from flask import request
from flask_babel import format_date
from flask_babel import gettext as _
from sqlmodel import Session

from .. import cases, db
from ..models import Case
from . import limits
from .errors import ApiError

_CASE_NUMBER = re.compile(r"[A-Za-z0-9-]{1,20}")


def bearer_token() -> str:
    """The token of ``Authorization: Bearer <token>``; 401 when the header is absent or malformed."""
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "token_required", _("Send the case's private token as Authorization: Bearer <token>."))
    return token.strip()


def case_for_bearer(session: Session, number: str) -> Case:
    """The case when ``number`` and the bearer token match; 404 for either mistake.

    A number that cannot be one (a NUL byte, which PostgreSQL refuses outright, or too
    long) is not looked up at all: it gets the same 404. The token is checked before any
    limit, so the right one always passes; a wrong one is counted (429 past the limits).
    """
    token = bearer_token()
    writes = request.method not in db.READING_METHODS  # a post changes the case as it is now
    case = (cases.find_for_claimant(session, number, token, for_update=writes)
            if _CASE_NUMBER.fullmatch(number.strip()) else None)
    if case is None:
        limits.wrong_token(number)
        raise ApiError(404, "case_not_found", _("No case matches this number and token."))
    if case.erased_at is not None:
        raise erased(case)
    return case


def erased(case: Case) -> ApiError:
    """410 for a case whose personal data was erased: it shows nothing and takes nothing."""
    return ApiError(410, "case_erased", _("The personal data of this case was erased on %(date)s.",
                                                    date=format_date(case.erased_at)))
