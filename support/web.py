"""Request-side helpers shared by the blueprints: who is acting, from where, and who may."""
from __future__ import annotations

import uuid
from functools import wraps

from flask import abort, g, request
from flask_login import current_user

from .audit import Actor, Origin
from .extensions import login_manager
from .models import Agent, Role


def origin() -> Origin:
    """The request's IP, user agent and request id, for the audit trail."""
    if "request_id" not in g:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
    return Origin(ip=request.remote_addr, user_agent=request.user_agent.string or None, request_id=g.request_id)


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


#: roles that may change a case (auditors only read)
WORKERS = (Role.agent, Role.supervisor, Role.admin)
#: roles that may read every case
READERS = (Role.agent, Role.supervisor, Role.admin, Role.auditor)
