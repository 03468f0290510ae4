"""Abuse limits of the API (Flask-Limiter; storage from ``RATELIMIT_STORAGE_URI``).

Case creation is limited per IP and per contact email, the email counting only accepted
filings (so refused requests naming someone's address cannot block that person); wrong
tokens per IP and per case number, the right token always passing (``wrong_token`` and
``support/guesses.py``); uploads and messages per IP, and per case counting only requests
that showed the right token. Each limit can be changed in the app config under the key
named below, e.g. ``API_LIMIT_CREATE_PER_IP = "5 per hour"``.
"""
from __future__ import annotations

from flask import current_app, request
from flask_limiter.util import get_remote_address

from .. import guesses
from ..extensions import limiter

DEFAULTS = {
    "API_LIMIT_CREATE_PER_IP": "20 per hour",
    "API_LIMIT_CREATE_PER_EMAIL": "5 per day",
    "API_LIMIT_TOKEN_FAILURES_PER_IP": "30 per hour",
    "API_LIMIT_TOKEN_FAILURES_PER_CASE": "20 per hour",
    "API_LIMIT_UPLOADS_PER_IP": "60 per hour",
    "API_LIMIT_UPLOADS_PER_CASE": "30 per hour",
}


def _setting(name: str):
    return lambda: current_app.config.get(name, DEFAULTS[name])


def _ip() -> str:
    return f"ip:{get_remote_address()}"


def _contact_email() -> str:
    """The normalised contact email of a filing (reading the form may raise a JSON 413)."""
    return "email:" + (request.form.get("contact_email") or "").strip().lower()


def _case_number() -> str:
    return "case:" + str((request.view_args or {}).get("number", "")).strip().upper()


def _filed(response) -> bool:
    return response.status_code == 201


def _past_the_token(response) -> bool:
    """Only the case's claimant spends the case's upload allowance, not someone guessing its token."""
    return response.status_code not in (401, 404)


def wrong_token(number: str) -> None:
    """Count a wrong bearer token for case ``number``: 429 past the per-IP or per-case limit."""
    guesses.wrong(number, scope="api-token", per_source=_setting("API_LIMIT_TOKEN_FAILURES_PER_IP")(),
                  per_case=_setting("API_LIMIT_TOKEN_FAILURES_PER_CASE")())


create_per_ip = limiter.limit(_setting("API_LIMIT_CREATE_PER_IP"), key_func=_ip, scope="api-create-ip")
create_per_email = limiter.limit(_setting("API_LIMIT_CREATE_PER_EMAIL"), key_func=_contact_email,
                                 scope="api-create-email", deduct_when=_filed)
uploads_per_ip = limiter.shared_limit(_setting("API_LIMIT_UPLOADS_PER_IP"), scope="api-upload-ip", key_func=_ip)
uploads_per_case = limiter.shared_limit(_setting("API_LIMIT_UPLOADS_PER_CASE"), scope="api-upload-case",
                                        key_func=_case_number, deduct_when=_past_the_token)
