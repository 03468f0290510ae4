"""Every link that leaves the desk (email, SMS, PDF) is built here, from ``PUBLIC_URL`` only.

A request's Host or X-Forwarded-Host header says nothing about where the desk lives: an
attacker sets it to their own host to get a valid reset or tracking link mailed to a
victim pointing at them. So links are built from configuration, in a request or outside
one (the CLI, ``actions run-due``); ``config.check_public_url`` vets PUBLIC_URL at start-up.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from .models import Case


def public(endpoint: str, **values) -> str:
    """The absolute link to ``endpoint`` (extra values become the query), on PUBLIC_URL's host and path.

    The URL map is bound to PUBLIC_URL rather than to the request, so the same call works in
    a request, in a CLI command and in the worker, and a Host header changes nothing.
    """
    public_url = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(public_url.netloc, script_name=public_url.path or "/",
                                       url_scheme=public_url.scheme)
    return adapter.build(endpoint, values, force_external=True)


def case_page(case: Case) -> str:
    """Where the claimant follows ``case``: the tracking page with the number filled in.

    The private code is stored only hashed, so later emails cannot carry it; the claimant
    adds it on the page (or already has the case open in their browser).
    """
    return public("intake.track", number=case.number)


def agent_case_page(case: Case) -> str:
    """The case page on the agents' side (for emails to agents and supervisors only)."""
    return public("review.case", number=case.number)
