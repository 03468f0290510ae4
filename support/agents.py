"""Agents: creation and password sign-in with throttling and a temporary lock.

Every attempt is audited. The answer to a wrong email and to a wrong password is the
same, and takes the same time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from . import audit
from .models import Agent, Role, utcnow
from .passwords import check_password, hash_password

#: failures allowed before each further attempt must wait (doubling, up to a minute)
FREE_ATTEMPTS = 3


class AgentError(ValueError):
    pass


def create_agent(session: Session, *, email: str, name: str, role: Role, password: str, actor: audit.Actor) -> Agent:
    email = email.strip().lower()
    if len(password) < 10:
        raise AgentError("the password must have at least 10 characters")
    if session.exec(select(Agent).where(Agent.email == email)).first():
        raise AgentError(f"an agent with email {email} already exists")
    agent = Agent(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    session.add(agent)
    session.flush()
    audit.record(session, actor=actor, action="agent.created", subject=("agent", agent.id),
                 after={"email": agent.email, "name": agent.name, "role": agent.role.value})
    return agent


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
