"""The emailed link through which an invited (or reset) agent sets their password.

The link carries a signed token bound to the agent's id and session generation. Setting
the password raises the generation (``agents.set_password``), and so do deactivation, a
new role and a later reset: the link works once, and a link sent before any of those no
longer works. It also expires after ``AGENT_LINK_HOURS``. The email is queued in the
caller's transaction and leaves only after it commits; its link is built from PUBLIC_URL.
"""
from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from . import agents, audit, links, mail
from .models import Agent
from .refusals import Refused

_SALT = "agent-set-password"


class LinkRefused(Refused):
    """The link is expired (``expired``) or forged, used or outdated (``invalid``)."""

    status = 410

    MESSAGES = {
        "expired": "This link has expired. Ask an admin for a new one.",
        "invalid": "This link is not valid or was already used.",
    }

    def __init__(self, code: str):
        super().__init__(code, self.MESSAGES[code])


def _serializer(config: dict) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=_SALT)


def make_token(agent: Agent, config: dict) -> str:
    return _serializer(config).dumps({"agent": agent.id, "generation": agent.session_generation})


def agent_for(session: Session, token: str, config: dict, *, lock: bool = False) -> Agent:
    """The agent the link is for, or ``LinkRefused`` (expired / invalid); with ``lock`` the
    agent's row stays locked, so two uses of one link at once cannot both pass."""
    try:
        claims = _serializer(config).loads(token, max_age=config["AGENT_LINK_HOURS"] * 3600)
    except SignatureExpired as error:
        raise LinkRefused("expired") from error
    except BadSignature as error:
        raise LinkRefused("invalid") from error
    agent_id = claims.get("agent") if isinstance(claims, dict) else None
    agent = session.get(Agent, agent_id, with_for_update=lock) if isinstance(agent_id, int) else None
    if agent is None or not agent.active or claims.get("generation") != agent.session_generation:
        raise LinkRefused("invalid")  # used, or overtaken by a later change to the agent
    return agent


def send_link(session: Session, agent: Agent, config: dict, *, reset: bool) -> None:
    """Queue the email with the set-password link (an invitation, or ``reset``) to ``agent``, in
    the agent's language."""
    language = agent.language or "en"
    link = links.public("admin.set_password", token=make_token(agent, config))
    with force_locale(language):
        subject = _("Set a new password for Recovery Desk") if reset else _("You are invited to Recovery Desk")
        body = render_template("emails/admin_agent_link.txt", agent=agent, link=link, reset=reset,
                               hours=config["AGENT_LINK_HOURS"])
    mail.queue_email(session, to=agent.email, subject=subject, body=body, language=language)


def set_password(session: Session, token: str, password: str, config: dict,
                 origin: audit.Origin | None = None) -> Agent:
    """Use the link once: the agent's new password (``agents.AgentError`` when too short)."""
    agent = agent_for(session, token, config, lock=True)
    agents.set_password(session, agent, password, actor=audit.Actor("agent", str(agent.id), agent.name),
                        origin=origin)
    return agent
