"""Agents: creation, password sign-in with throttling and a temporary lock, and the
changes that end every session of an agent.

Every attempt is audited. The answer to a wrong email and to a wrong password is the
same, and takes the same time. A session is valid only while the agent's session
generation is the one it was signed in with (``Agent.get_id``); signing out, a new
password, a new or reset TOTP secret, a new role and deactivation raise it.

Administration (``invite``, ``set_active``, ``set_role``, ``reset_password``,
``reset_totp``) keeps at least one active admin who can sign in, and an admin never
deactivates themselves (``by``): the check runs under a lock on the admins' rows, so two
admins demoting each other at once cannot both succeed. An invited or reset agent has no
usable password until they set one through the emailed link (``invitations``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from . import audit, personal_data, sign_in_failures
from .models import Agent, Language, Role, utcnow
from .passwords import UNUSABLE, check_password, hash_password, is_usable
from .refusals import Refused

#: failures allowed before each further attempt must wait (doubling, up to a minute)
FREE_ATTEMPTS = 3
MIN_PASSWORD = 10


class AgentError(Refused, ValueError):
    """An agent change the desk refuses; ``code`` says why (exists, last_admin, self, too_short, invalid)."""

    status = 409

    def __init__(self, message: str, code: str = "invalid", field: str | None = None):
        super().__init__(code, message, field)


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
        raise AgentError(f"the password must have at least {MIN_PASSWORD} characters", "too_short", "password")


def invite(session: Session, *, email: str, name: str, role: Role, actor: audit.Actor,
           origin: audit.Origin | None = None, language: Language = Language.en) -> Agent:
    """A new agent without a usable password: they set one through the invitation link.

    Refuses a malformed email or name, and an email an agent already has (``exists``).
    """
    check_invitation(session, email=email, name=name)
    email, name = email.strip().lower(), name.strip()
    agent = Agent(email=email, name=name, role=role, password_hash=UNUSABLE, language=Language(language).value)
    try:
        with session.begin_nested():  # the same email invited at the same instant: a refusal, not a 500
            session.add(agent)
    except IntegrityError as error:
        raise AgentError(f"an agent with email {email} already exists", "exists", "email") from error
    audit.record(session, actor=actor, action="agent.invited", subject=("agent", agent.id), origin=origin,
                 after={"email": agent.email, "name": agent.name, "role": agent.role.value,
                        "language": agent.language})
    return agent


def check_invitation(session: Session, *, email: str, name: str) -> None:
    """``AgentError`` for a malformed email or name, or an email an agent already has."""
    email, name = (email or "").strip().lower(), (name or "").strip()
    local, _at, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(char.isspace() for char in email):
        raise AgentError("this is not an email address", "bad_email", "email")
    if not name or len(name) > 120:
        raise AgentError("write a name of up to 120 characters", "bad_name", "name")
    if find(session, email):
        raise AgentError(f"an agent with email {email} already exists", "exists", "email")


def has_password(agent: Agent) -> bool:
    """False while an invited or reset agent has not set their password yet."""
    return is_usable(agent.password_hash)


def _can_sign_in_as_admin():
    return (Agent.role == Role.admin, Agent.active.is_(True), Agent.password_hash.startswith("$"))


def refusal(session: Session, agent: Agent, *, by: Agent | None = None, active: bool | None = None,
            role: Role | None = None, lock: bool = False) -> AgentError | None:
    """Why making ``agent`` ``active`` / giving it ``role`` must not happen, or None.

    ``by`` (the admin asking, None on the command line) may not deactivate themselves; no
    change may leave the desk without an active admin who can sign in. With ``lock`` the
    admins' rows are locked until the transaction ends, so the answer still holds when the
    change is written.
    """
    if active is False and by is not None and by.id == agent.id:
        return AgentError("you cannot deactivate yourself", "self")
    loses_admin = agent.role == Role.admin and agent.active and (active is False or (role and role != Role.admin))
    if not loses_admin:
        return None
    admins = select(Agent.id).where(*_can_sign_in_as_admin())
    if lock:
        admins = admins.with_for_update()
    others = [admin_id for admin_id in session.exec(admins).all() if admin_id != agent.id]
    if not others:
        return AgentError("this is the last active admin: make another agent admin first", "last_admin")
    return None


def _refuse(session: Session, agent: Agent, **change) -> None:
    problem = refusal(session, agent, lock=True, **change)
    if problem:
        raise problem


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
             origin: audit.Origin | None = None, by: Agent | None = None) -> None:
    """Give ``agent`` ``role``; refused when it would leave no active admin."""
    _refuse(session, agent, role=role, by=by)
    before, agent.role = agent.role, role
    _change(session, agent, "agent.role_changed", actor, origin, {"role": role.value}, {"role": before.value})


def set_active(session: Session, agent: Agent, active: bool, *, actor: audit.Actor,
               origin: audit.Origin | None = None, by: Agent | None = None) -> None:
    """Deactivate (every session ends) or reactivate ``agent``; refused for oneself and the last admin."""
    _refuse(session, agent, active=active, by=by)
    agent.active = active
    _change(session, agent, "agent.reactivated" if active else "agent.deactivated", actor, origin, {"active": active})


def reset_password(session: Session, agent: Agent, *, actor: audit.Actor, origin: audit.Origin | None = None) -> None:
    """Make the password unusable at once and end every session; the agent sets a new one
    through the link ``invitations.send_link`` mails (links made before stop working)."""
    agent.password_hash, agent.failed_sign_ins, agent.locked_until = UNUSABLE, 0, None
    _change(session, agent, "agent.password_reset", actor, origin, {})


def reset_totp(session: Session, agent: Agent, *, actor: audit.Actor, origin: audit.Origin | None = None) -> None:
    """Forget the TOTP secret (a lost phone) and the password with it: the agent comes back
    only through the set-password link ``invitations.send_link`` mails, which leads on to
    setting up new codes. With the password still good, whoever else knew it could sign in
    first and set up their own phone as the agent's second factor."""
    agent.totp_secret, agent.totp_last_step = None, None
    agent.password_hash, agent.failed_sign_ins, agent.locked_until = UNUSABLE, 0, None
    _change(session, agent, "agent.totp_reset", actor, origin, {"password_reset": True})


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
    """The agent when the password is right and the account is not throttled or locked.

    The password is checked (argon2, slow on purpose) before the agent's row is locked:
    a write transaction must not hold its locks, the audit chain's among them
    (``lock_order``), while it hashes.
    """
    email = email.strip().lower()
    judged_hash = session.exec(select(Agent.password_hash).where(Agent.email == email)).first()
    password_ok = check_password(judged_hash, password)
    agent = session.exec(select(Agent).where(Agent.email == email).with_for_update()
                         .execution_options(populate_existing=True)).first()
    if agent is not None and agent.password_hash != judged_hash:  # changed meanwhile: judge the current one
        password_ok = check_password(agent.password_hash, password)
    now = utcnow()
    # an email with no agent is throttled and locked as an agent's would be (sign_in_failures):
    # otherwise "Too many attempts" would tell which emails belong to staff
    nobody = unknown_email_hash(session, email) if agent is None else None
    failures = sign_in_failures.find(session, nobody) if nobody else None
    locked_until = agent.locked_until if agent is not None else failures and _next_allowed(
        failures.failed_attempts, lock_threshold, lock_minutes, since=failures.updated_at)
    if locked_until and locked_until > now:
        wait = int((locked_until - now).total_seconds()) + 1
        _record(session, agent, email, "agent.sign_in_refused", origin, f"throttled for {wait} s")
        return SignInAttempt(None, wait)
    if agent is None or not agent.active or not password_ok:
        if agent is not None:
            agent.failed_sign_ins += 1
            agent.locked_until = _next_allowed(agent.failed_sign_ins, lock_threshold, lock_minutes)
            session.add(agent)
        else:
            sign_in_failures.count(session, nobody)
        _record(session, agent, email, "agent.sign_in_failed", origin, "wrong email or password")
        return SignInAttempt(None)
    agent.failed_sign_ins, agent.locked_until, agent.last_sign_in_at = 0, None, now
    session.add(agent)
    _record(session, agent, email, "agent.signed_in", origin, None)
    return SignInAttempt(agent)


def unknown_email_hash(session: Session, email: str) -> str:
    """What ``SignInFailure`` keeps of a staff sign-in email that belongs to no agent."""
    return sign_in_failures.name_hash(session, "agent-sign-in", email.strip().lower())


def _next_allowed(failures: int, lock_threshold: int, lock_minutes: int, *, since=None):
    """When the next attempt is checked after ``failures`` wrong passwords in a row, the last at ``since`` (now)."""
    since = since or utcnow()
    if failures >= lock_threshold:
        return since + timedelta(minutes=lock_minutes)
    if failures >= FREE_ATTEMPTS:
        return since + timedelta(seconds=min(2 ** (failures - FREE_ATTEMPTS), 60))
    return None


def as_recorded(session: Session, email: str) -> str:
    """How the audit trail names an email typed at the staff sign-in: an agent's as it is; any
    other (a claimant's by mistake, an attacker's guess) by its keyed fingerprint only, since
    the hashed trail keeps what it holds for good and no erasure could reach it there."""
    is_agents = session.exec(select(Agent.id).where(Agent.email == email)).first() is not None
    return email if is_agents else _fingerprint(session, email)


def _fingerprint(session: Session, email: str) -> str:
    return personal_data.token(personal_data.key_of(session), email)


def _record(session: Session, agent: Agent | None, email: str, action: str, origin: audit.Origin, reason: str | None):
    actor = audit.Actor("agent", str(agent.id), agent.name) if agent else audit.Actor("anonymous", None, None)
    named = email if agent else _fingerprint(session, email)
    audit.record(session, actor=actor, action=action, subject=("agent", agent.id if agent else named),
                 after={"email": named, "failed_sign_ins": agent.failed_sign_ins if agent else None},
                 reason=reason, origin=origin)
