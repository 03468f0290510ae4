"""Agent sign-in and sign-out. One generic message for a wrong email or password."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import RequestLimit
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from limits import parse
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from .. import agents, audit, db
from ..extensions import limiter, login_manager
from ..models import Agent, Role, utcnow
from ..web import agent_actor, local_target, origin

bp = Blueprint("auth", __name__, url_prefix="/agent")

login_manager.login_view = "auth.sign_in"
login_manager.session_protection = "strong"
login_manager.login_message = _l("Please sign in to continue.")


@login_manager.user_loader
def load_agent(user_id: str) -> Agent | None:
    """The active agent whose session generation is still the one this session was signed
    in with (``Agent.get_id``); any other session has been ended."""
    agent_id, _, generation = user_id.partition(":")
    if not (agent_id.isdigit() and generation.isdigit()):
        return None
    agent = db.session().get(Agent, int(agent_id))
    if agent is None or not agent.active or agent.session_generation != int(generation):
        return None
    return agent


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def _email_key() -> str:
    return "agent-sign-in:" + (request.form.get("email") or "").strip().lower()


#: refused sign-ins kept per limited key: a flood must not turn into a flood of writes
KEPT_BREACHES = parse("10/minute")


def _keep_limited_attempt(limit: RequestLimit) -> None:
    """A sign-in the rate limit refused is still an attempt on an agent account: keep it.

    Once per request, and at most ``KEPT_BREACHES`` per limited key and window.
    """
    if g.get("limited_attempt_kept") or not limit.limiter.hit(KEPT_BREACHES, "kept-breach", limit.key):
        return
    g.limited_attempt_kept = True
    email = (request.form.get("email") or "").strip().lower()[:254]
    where = origin()

    def keep(db_session) -> None:
        named = agents.as_recorded(db_session, email)
        audit.record(db_session, actor=audit.Actor("anonymous", None, None), action="agent.sign_in_refused",
                     subject=("agent", named), after={"email": named, "limit": str(limit.limit)},
                     reason="rate limit", origin=where)

    db.keep_when_refused(keep)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"], on_breach=_keep_limited_attempt)
@limiter.limit("10/minute", methods=["POST"], key_func=_email_key, on_breach=_keep_limited_attempt)
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        attempt = agents.authenticate(
            db.session(),
            email=form.email.data,
            password=form.password.data,
            lock_threshold=current_app.config["AGENT_LOCK_THRESHOLD"],
            lock_minutes=current_app.config["AGENT_LOCK_MINUTES"],
            origin=origin(),
        )
        if attempt.agent is not None:
            session.clear()  # no session fixation: nothing from before sign-in survives
            login_user(attempt.agent)
            session["signed_in_at"] = utcnow().isoformat()
            return redirect(local_target(request.args.get("next")) or _agent_home())
        if attempt.retry_after:
            flash(_("Too many attempts. Try again in %(seconds)s seconds.", seconds=attempt.retry_after), "error")
        else:
            flash(_("Wrong email or password."), "error")
    return render_template("auth/sign_in.html", form=form)


def _agent_home() -> str:
    """Where an agent lands after signing in without ``next``: the review queue (when the desk has
    one), the erasure page for a data-protection officer, who does not work cases."""
    home = "privacy.erasure_page" if current_user.role == Role.dpo else "review.queue"
    return url_for(home if home in current_app.view_functions else "home.index")


@bp.post("/sign-out")
def sign_out():
    """Ends every session of the agent, not only this browser's: a copied cookie dies too."""
    if current_user.is_authenticated:
        agents.sign_out_everywhere(db.session(), current_user, actor=agent_actor(), origin=origin())
    logout_user()
    session.clear()
    return redirect(url_for("auth.sign_in"))
