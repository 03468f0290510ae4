"""Links each feature adds to the shared layout, so blueprints never import each other."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import Flask, g, url_for
from flask_babel import get_locale
from flask_login import current_user

from .extensions import LANGUAGES
from .models import Role


@dataclass(frozen=True)
class Link:
    endpoint: str
    label: object  # a lazy_gettext string
    roles: tuple[Role, ...] = ()
    args: dict = field(default_factory=dict)
    #: a number shown beside the label when above zero (e.g. flagged cases); asked only for those who see it
    count: Callable[[], int] | None = None


STAFF: list[Link] = []
PUBLIC: list[Link] = []
#: templates the agent case page includes, each given ``case`` (actions, report ...)
CASE_PANELS: list[str] = []


def staff_link(endpoint: str, label, *roles: Role, args: dict | None = None,
               count: Callable[[], int] | None = None) -> None:
    """Show ``endpoint`` (with query ``args``) in the staff navigation to ``roles`` (everyone signed in
    when none), with ``count()`` as a badge when it is above zero."""
    STAFF.append(Link(endpoint, label, roles, args or {}, count))


def public_link(endpoint: str, label) -> None:
    PUBLIC.append(Link(endpoint, label))


def case_panel(template: str) -> None:
    """Add a panel to the agent case page (rendered with ``case`` in its context)."""
    if template not in CASE_PANELS:
        CASE_PANELS.append(template)


def _staff_visible() -> list[dict]:
    """The staff links with their counts, worked out once per request however often a page asks."""
    if "staff_navigation" not in g:
        g.staff_navigation = _visible(STAFF)
    return g.staff_navigation


def _visible(links: list[Link]) -> list[dict]:
    role = getattr(current_user, "role", None)
    return [{"url": url_for(link.endpoint, **link.args), "label": str(link.label),
             "count": link.count() if link.count else 0}
            for link in links if not link.roles or role in link.roles]


def init_app(app: Flask) -> None:
    @app.context_processor
    def layout_helpers():
        return {
            "staff_navigation": _staff_visible,
            "public_links": lambda: _visible(PUBLIC),
            "case_panels": lambda: list(CASE_PANELS),
            "has_endpoint": lambda name: name in app.view_functions,
            "languages": LANGUAGES,
            "current_locale": lambda: str(get_locale() or "en"),
        }
