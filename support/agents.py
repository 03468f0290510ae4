"""Agents: creation, password sign-in with throttling and a temporary lock, and the
changes that end every session of an agent.

Every attempt is audited. The answer to a wrong email and to a wrong password is the
same, and takes the same time. A session is valid only while the agent's session
generation is the one it was signed in with (``Agent.get_id``); signing out, a new
password, a new or reset TOTP secret, a new role and deactivation raise it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from . import audit
from .models import Agent, Language, Role, utcnow
from .passwords import check_password, hash_password

#: failures allowed before each further attempt must wait (doubling, up to a minute)
FREE_ATTEMPTS = 3
MIN_PASSWORD = 10


class AgentError(ValueError):
    pass


def create_agent(session: Session, *, email: str, name: str, role: Role, password: str, actor: audit.Actor,
                 language: Language = Language.en) -> Agent:
    email = email.strip().lower()
    _check_password(password)
    if session.exec(select(Agent).where(Agent.email == email)).first():
        raise AgentError(f"an agent with email {email} already exists")
    agent = Agent(email=email, name=name.strip(), role=role, password_hash=hash_password(password),
                  language=Language(language).value)
    session.add(agent)
    session.flush()
    audit.record(session, actor=actor, action="agent.created", subject=("agent", agent.id),
                 after={"email": agent.email, "name": agent.name, "role": agent.role.value,
                        "language": agent.language})
    return agent


def set_language(session: Session, agent: Agent, language: Language, *, actor: audit.Actor,
                 origin: audit.Origin | None = None) -> None:
    """The language of the agent's pages and emails; sessions go on (nothing to protect)."""
    before, agent.language = agent.language, Language(language).value
    session.add(agent)
    session.flush()
    audit.record(session, actor=actor, action="agent.language_set", subject=("agent", agent.id),
                 before={"language": before}, after={"language": agent.language}, origin=origin)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AgentError(f"the password must have at least {MIN_PASSWORD} characters")


def find(session: Session, email: str) -> Agent | None:
    return session.exec(select(Agent).where(Agent.email == email.strip().lower())).first()


def revoke_sessions(agent: Agent) -> None:
    """End every session of ``agent``: the user loader refuses an older generation."""
    agent.session_generation += 1


def sign_out_everywhere(session: Session, agent: Agent, *, actor: audit.Actor,
                        origin: audit.Origin | None = None) -> None:
    _change(session, agent, "agent.signed_out", actor, origin, {})


def set_password(session: Session, agent: Agent, password: str, *, actor: audit.Actor,
                 origin: audit.Origin | None = None) -> None:
    _check_password(password)
    agent.password_hash = hash_password(password)
    agent.failed_sign_ins, agent.locked_until = 0, None
    _change(session, agent, "agent.password_changed", actor, origin, {})


def set_role(session: Session, agent: Agent, role: Role, *, actor: audit.Actor,
             origin: audit.Origin | None = None) -> None:
    before, agent.role = agent.role, role
    _change(session, agent, "agent.role_changed", actor, origin, {"role": role.value}, {"role": before.value})


def set_active(session: Session, agent: Agent, active: bool, *, actor: audit.Actor,
               origin: audit.Origin | None = None) -> None:
    agent.active = active
    _change(session, agent, "agent.activated" if active else "agent.deactivated", actor, origin, {"active": active})


def reset_totp(session: Session, agent: Agent, *, actor: audit.Actor, origin: audit.Origin | None = None) -> None:
    """Forget the TOTP secret (a lost phone): the agent enrols again before any step-up."""
    agent.totp_secret, agent.totp_last_step = None, None
    _change(session, agent, "agent.totp_reset", actor, origin, {})


def _change(session: Session, agent: Agent, action: str, actor: audit.Actor, origin: audit.Origin | None,
            after: dict, before: dict | None = None) -> None:
    """Apply a change to ``agent`` that ends its sessions, with its audit event."""
    revoke_sessions(agent)
    session.add(agent)
    session.flush()
    audit.record(session, actor=actor, action=action, subject=("agent", agent.id), before=before,
                 after={**after, "session_generation": agent.session_generation}, origin=origin)


@dataclass(frozen=True)
class SignInAttempt:
    agent: Agent | None
    #: seconds to wait before the next attempt is even checked (0 when not throttled)
    retry_after: int = 0


def authenticate(
    session: Session, *, email: str, password: str, lock_threshold: int, lock_minutes: int, origin: audit.Origin
) -> SignInAttempt:
    """The agent when the password is right and the account is not throttled or locked."""
    email = email.strip().lower()
    agent = session.exec(select(Agent).where(Agent.email == email).with_for_update()).first()
    now = utcnow()
    if agent is not None and agent.locked_until and agent.locked_until > now:
        wait = int((agent.locked_until - now).total_seconds()) + 1
        _record(session, agent, email, "agent.sign_in_refused", origin, f"throttled for {wait} s")
        return SignInAttempt(None, wait)
    if agent is None or not agent.active or not check_password(agent.password_hash if agent else None, password):
        if agent is not None:
            agent.failed_sign_ins += 1
            agent.locked_until = _next_allowed(agent.failed_sign_ins, lock_threshold, lock_minutes)
            session.add(agent)
        _record(session, agent, email, "agent.sign_in_failed", origin, "wrong email or password")
        return SignInAttempt(None)
    agent.failed_sign_ins, agent.locked_until, agent.last_sign_in_at = 0, None, now
    session.add(agent)
    _record(session, agent, email, "agent.signed_in", origin, None)
    return SignInAttempt(agent)


def _next_allowed(failures: int, lock_threshold: int, lock_minutes: int):
    if failures >= lock_threshold:
        return utcnow() + timedelta(minutes=lock_minutes)
    if failures >= FREE_ATTEMPTS:
        return utcnow() + timedelta(seconds=min(2 ** (failures - FREE_ATTEMPTS), 60))
    return None


def _record(session: Session, agent: Agent | None, email: str, action: str, origin: audit.Origin, reason: str | None):
    actor = audit.Actor("agent", str(agent.id), agent.name) if agent else audit.Actor("anonymous", None, None)
    audit.record(session, actor=actor, action=action, subject=("agent", agent.id if agent else email),
                 after={"email": email, "failed_sign_ins": agent.failed_sign_ins if agent else None},
                 reason=reason, origin=origin)
