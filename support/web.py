"""Request-side helpers shared by the blueprints: who is acting, from where, who may, and
where a form may send them back to."""
from __future__ import annotations

import unicodedata
import uuid
from functools import wraps
from urllib.parse import unquote, urlsplit

from flask import abort, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user

from . import audit, db
from .audit import Actor, Origin
from .extensions import login_manager
from .models import Agent, Role
from .refusals import Refused


def origin() -> Origin:
    """The request's IP, user agent and request id, for the audit trail."""
    return Origin(ip=request.remote_addr, user_agent=_printable(request.user_agent.string) or None,
                  request_id=request_id())


def request_id() -> str:
    """The request's id: the proxy's ``X-Request-Id`` (printable, at most 64 characters) or a
    new one; the same in the audit trail, the log lines and the response's header."""
    if "request_id" not in g:
        g.request_id = _printable(request.headers.get("X-Request-Id", ""))[:64] or uuid.uuid4().hex
    return g.request_id


def _printable(text: str) -> str:
    """Headers are the sender's words: no control character reaches the audit trail."""
    return "".join(char for char in text if unicodedata.category(char) != "Cc")


def agent_actor(agent: Agent | None = None) -> Actor:
    agent = agent or current_user
    return Actor("agent", str(agent.id), agent.name)


def claimant_actor(case_number: str, name: str | None = None) -> Actor:
    return Actor("claimant", case_number, name)


def roles_required(*roles: Role):
    """Only signed-in agents with one of ``roles`` (any role when none given); 403 otherwise.

    Anonymous visitors are sent to the sign-in page by flask-login.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


#: what browsers drop from a URL wherever it appears (WHATWG URL parser: tab, LF, CR)
_BROWSER_DROPS = str.maketrans("", "", "\t\n\r")


def local_target(value: str | None) -> str | None:
    """``value`` as a path on this site to redirect to, or None when it could lead elsewhere.

    Judged the way a browser (or a proxy that decodes) would read it: tabs and newlines
    dropped, backslashes taken as slashes, percent-encoded characters decoded; anything
    that then names a scheme or a host (``//host``, ``https:host``, ``javascript:``) or
    still carries a control character is refused.
    """
    target = _normalise(value or "")
    if not target or not _is_local(target):
        return None
    decoded = target
    for _ in range(3):  # %252F is %2F once decoded, / twice
        decoded, previous = _normalise(unquote(decoded)), decoded
        if not _is_local(decoded):
            return None
        if decoded == previous:
            break
    return target


def _normalise(value: str) -> str:
    return value.translate(_BROWSER_DROPS).replace("\\", "/")


def _is_local(target: str) -> bool:
    if not target.startswith("/") or target.startswith("//"):
        return False
    if any(unicodedata.category(char) == "Cc" for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


#: roles that may change a case (auditors only read)
WORKERS = (Role.agent, Role.supervisor, Role.admin)
#: roles that may read every case
READERS = (Role.agent, Role.supervisor, Role.admin, Role.auditor)


def keep_refused_attempt(refusal: Refused) -> None:
    """A privileged attempt the desk refused becomes the audit event ``refused.<code>``.

    Only a signed-in agent's requests count as privileged: a claimant's refusals stay out of
    the trail. The event is written after the request's rollback, so it outlives it; it
    names the action or case in ``subject``, never in ``case_number``, so no claimant's
    copy of a case ever shows it.
    """
    if not current_user.is_authenticated:
        return
    actor, where, target = agent_actor(), origin(), request.view_args or {}
    subject = ("action", target["action_id"]) if "action_id" in target else (
        ("case", target["number"]) if "number" in target else None)
    attempt = {"method": request.method, "path": request.path}
    db.keep_when_refused(lambda session: audit.record(
        session, actor=actor, action=f"refused.{refusal.code}", subject=subject, after=attempt,
        reason=str(refusal.message), origin=where))


def step_up_words() -> dict:
    """Why a step-up was refused (``stepup.StepUpRefused`` codes), in the reader's language."""
    return {
        "step_up_required": _("Confirm this with a one-time code from your phone."),
        "stale_sign_in": _("Sign in again: this needs a sign-in within the last %(minutes)s minutes.",
                           minutes=current_app.config["STEP_UP_MINUTES"]),
        "no_totp": _("Set up two-step codes on your profile page first."),
        "bad_code": _("That code is wrong or was already used. Wait for the next code."),
    }
