"""Step-up for privileged moments: a fresh sign-in plus a one-time TOTP code.

A stolen session cookie alone must not be enough to unbind a phone, so approving or
executing an action asks again for something only the agent has. Each code is accepted
once: the accepted time step is stored with a compare-and-set, so a replay in the same
window (or two tabs racing) is refused. A code is spent when it is checked, whatever
becomes of the action it was for: the spending is written again after the rollback of a
refused request (``db.keep_when_refused``). The caller passes the sign-in time it keeps
in the web session; this module never reads the request.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import or_, update
from sqlmodel import Session

from . import agents, audit, db
from .models import Agent, utcnow
from .refusals import Refused

ISSUER = "Recovery Desk"
#: codes one step either side of now are accepted (clock drift of the phone)
DRIFT_STEPS = 1


class StepUpRefused(Refused):
    """Step-up failed; ``code`` is stale_sign_in, no_totp or bad_code."""

    status = 403


@dataclass(frozen=True)
class SteppedUp:
    """Proof that agent ``agent_id`` passed step-up at ``at``; privileged services ask for one."""

    agent_id: int
    at: datetime


def proven(step_up: SteppedUp | None, agent: Agent) -> datetime:
    """The time ``agent`` passed step-up, or ``StepUpRefused`` when no proof of theirs was given."""
    if step_up is None or step_up.agent_id != agent.id:
        raise StepUpRefused("step_up_required", "Confirm this with a one-time code from your phone.", "code")
    return step_up.at


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(agent: Agent, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=agent.email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The enrolment QR code as an inline SVG data URI (no external service sees the secret)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    code = (code or "").replace(" ", "")
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if code.isdigit() and pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def _spend(session: Session, agent_id: int, step: int) -> bool:
    """Store ``step`` as the agent's last one used unless it (or a later one) already was."""
    result = session.exec(update(Agent).where(Agent.id == agent_id, or_(Agent.totp_last_step.is_(None),
                                                                         Agent.totp_last_step < step))
                          .values(totp_last_step=step))
    return result.rowcount == 1


def _consume(session: Session, agent: Agent, step: int) -> bool:
    """Spend ``step`` now, and again after a rollback should the request be refused."""
    spent = _spend(session, agent.id, step)
    session.refresh(agent)
    if spent:
        db.keep_when_refused(partial(_spend, agent_id=agent.id, step=step))
    return spent


def is_fresh(signed_in_at: str | None, minutes: int, now: datetime | None = None) -> bool:
    """True when the sign-in (ISO UTC text) happened within ``minutes``."""
    try:
        when = datetime.fromisoformat(signed_in_at or "")
    except ValueError:
        return False
    return (now or utcnow()) - when <= timedelta(minutes=minutes)


def require(session: Session, agent: Agent, *, signed_in_at: str | None, code: str, config: dict,
            now: datetime | None = None) -> SteppedUp:
    """The proof of a passed step-up, or ``StepUpRefused``. A good code is used up for good."""
    now = now or utcnow()
    if not is_fresh(signed_in_at, config["STEP_UP_MINUTES"], now):
        raise StepUpRefused("stale_sign_in", f"Sign in again: this needs a sign-in within the last "
                                             f"{config['STEP_UP_MINUTES']} minutes.")
    if not agent.totp_secret:
        raise StepUpRefused("no_totp", "Set up two-step codes on your profile page first.")
    step = _matching_step(agent.totp_secret, code, now)
    if step is None or not _consume(session, agent, step):
        raise StepUpRefused("bad_code", "That code is wrong or was already used. Wait for the next code.")
    return SteppedUp(agent.id, now)


def enrol(session: Session, agent: Agent, *, secret: str, code: str, origin: audit.Origin | None = None,
          now: datetime | None = None) -> None:
    """Keep ``secret`` as the agent's TOTP secret once a code from it proves the phone has it.

    Every session of the agent ends: one signed in before the change must not carry on
    with a second factor it never proved. The caller re-issues the session that enrolled.
    """
    step = _matching_step(secret, code, now or utcnow())
    if step is None:
        raise StepUpRefused("bad_code", "That code does not match. Check the phone's clock and try the next code.")
    had_one = agent.totp_secret is not None
    agent.totp_secret, agent.totp_last_step = secret, step
    agents.revoke_sessions(agent)
    session.add(agent)
    session.flush()
    audit.record(session, actor=audit.Actor("agent", str(agent.id), agent.name), action="agent.totp_enrolled",
                 subject=("agent", agent.id), after={"replaced": had_one}, origin=origin)
