"""``/admin/agents``: the team's agents, and every change an admin makes to them (admins only).

Each change is a POST with the CSRF token and a one-time code (step-up), and is audited in
the same transaction by the agent service. Refusals that need no code (the last admin,
oneself, an email already taken) are answered before the code is checked, so the code is
not spent on them. The invited agent's page (``/agent/password/<token>``) is public: the
link itself is the proof.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from sqlmodel import select

from .. import agents, db, invitations, stepup
from ..extensions import LANGUAGES
from ..models import Agent, Language, Role, utcnow
from ..navigation import staff_link
from ..refusals import Refused
from ..web import agent_actor, keep_refused_attempt, origin, roles_required, step_up_words

bp = Blueprint("admin", __name__)
staff_link("admin.agents_page", _l("Agents"), Role.admin)

#: roles whose work needs step-up, so a new member of them enrols TOTP right after choosing a password
TOTP_ROLES = (Role.agent, Role.supervisor, Role.admin, Role.dpo)


def _words() -> dict:
    """Refusals in the reader's language, by code."""
    return {
        **step_up_words(),
        "self": _("You cannot deactivate yourself."),
        "last_admin": _("This is the last active admin: make another agent admin first."),
        "exists": _("An agent with this email already exists."),
        "bad_email": _("Write a valid email address."),
        "bad_name": _("Write a name of up to 120 characters."),
        "too_short": _("Use at least %(count)s characters.", count=agents.MIN_PASSWORD),
        "mismatch": _("The two passwords differ."),
        "expired": _("This link has expired. Ask an admin for a new one."),
        "invalid": _("This link is not valid or was already used."),
    }


def _say(refusal: Refused) -> str:
    return _words().get(refusal.code, refusal.message)


def _refused(refusal: Refused) -> str:
    """Roll the request back, keep the attempt in the audit trail, and say why."""
    db.refuse()
    keep_refused_attempt(refusal)
    return _say(refusal)


def _step_up() -> stepup.SteppedUp:
    return stepup.require(db.session(), current_user, signed_in_at=session.get("signed_in_at"),
                          code=request.form.get("code", ""), config=current_app.config)


def _load(agent_id: int) -> Agent:
    """The agent or 404."""
    return db.session().get(Agent, agent_id) or abort(404)


def _list(form: dict | None = None, errors: dict | None = None, status: int = 200):
    team = db.session().exec(select(Agent).order_by(Agent.active.desc(), Agent.name, Agent.id)).all()
    return render_template("admin/agents.html", team=team, roles=list(Role), languages=LANGUAGES,
                           form=form or {"role": Role.agent.value, "language": str(get_locale() or "en")},
                           errors=errors or {}, has_password=agents.has_password), status


@bp.get("/admin/agents")
@roles_required(Role.admin)
def agents_page():
    return _list()


@bp.post("/admin/agents")
@roles_required(Role.admin)
def invite():
    """Create the agent without a password and mail them the link; the form keeps what was typed."""
    form = {name: (request.form.get(name) or "").strip() for name in ("name", "email", "role", "language")}
    if form["role"] not in Role.titles() or form["language"] not in LANGUAGES:
        abort(400)
    db_session = db.session()
    try:
        agents.check_invitation(db_session, email=form["email"], name=form["name"])  # before the code is spent
        _step_up()
        agent = agents.invite(db_session, email=form["email"], name=form["name"], role=Role(form["role"]),
                              language=Language(form["language"]), actor=agent_actor(), origin=origin())
        invitations.send_link(db_session, agent, current_app.config, reset=False)
    except Refused as refusal:
        message = _refused(refusal)
        return _list(form, {refusal.field or "code": message}, 403 if isinstance(refusal, stepup.StepUpRefused)
                     else 422)
    flash(_("%(name)s is invited: the email with their link leaves now.", name=agent.name), "success")
    return redirect(url_for("admin.agents_page"), 303)


def _manage(agent_id: int, change, success: str, **rule):
    """Check the rule (no code spent on a refusal), then step-up, then ``change(session, agent)``."""
    agent = _load(agent_id)
    db_session = db.session()
    try:
        problem = agents.refusal(db_session, agent, by=current_user, **rule)
        if problem:
            raise problem
        _step_up()
        change(db_session, agent)
    except Refused as refusal:
        flash(_refused(refusal), "error")
    else:
        flash(success % {"name": agent.name}, "success")
    return redirect(url_for("admin.agents_page") + f"#agent-{agent.id}", 303)


@bp.post("/admin/agents/<int:agent_id>/deactivate")
@roles_required(Role.admin)
def deactivate(agent_id: int):
    return _manage(agent_id, lambda db_session, agent: agents.set_active(
        db_session, agent, False, actor=agent_actor(), origin=origin(), by=current_user),
        _("%(name)s is deactivated: every session of theirs has ended."), active=False)


@bp.post("/admin/agents/<int:agent_id>/reactivate")
@roles_required(Role.admin)
def reactivate(agent_id: int):
    return _manage(agent_id, lambda db_session, agent: agents.set_active(
        db_session, agent, True, actor=agent_actor(), origin=origin(), by=current_user),
        _("%(name)s can sign in again."), active=True)


@bp.post("/admin/agents/<int:agent_id>/role")
@roles_required(Role.admin)
def set_role(agent_id: int):
    role = request.form.get("role", "")
    if role not in Role.titles():
        abort(400)
    return _manage(agent_id, lambda db_session, agent: agents.set_role(
        db_session, agent, Role(role), actor=agent_actor(), origin=origin(), by=current_user),
        _("%(name)s has a new role; their sessions have ended."), role=Role(role))


@bp.post("/admin/agents/<int:agent_id>/reset-password")
@roles_required(Role.admin)
def reset_password(agent_id: int):
    def change(db_session, agent):
        agents.reset_password(db_session, agent, actor=agent_actor(), origin=origin())
        invitations.send_link(db_session, agent, current_app.config, reset=True)

    return _manage(agent_id, change, _("%(name)s's password no longer works; a link to choose a new one "
                                       "is on its way to them."))


@bp.post("/admin/agents/<int:agent_id>/reset-totp")
@roles_required(Role.admin)
def reset_totp(agent_id: int):
    def change(db_session, agent):
        agents.reset_totp(db_session, agent, actor=agent_actor(), origin=origin())
        invitations.send_link(db_session, agent, current_app.config, reset=True)

    return _manage(agent_id, change, _("%(name)s's two-step codes and password no longer work; a link to choose a "
                                       "new password, then new codes, is on its way to them."))


# -- the invited agent's page (public: the link is the proof) -------------------------------------


@bp.route("/agent/password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """GET only shows the form (a mail scanner opening the link changes nothing); the POST
    sets the password, signs the agent in and sends them to enrol TOTP when their role needs it."""
    try:
        agent = invitations.agent_for(db.session(), token, current_app.config)
    except invitations.LinkRefused as refusal:
        db.refuse()
        return render_template("admin/set_password.html", link_error=_say(refusal), errors={}), refusal.status
    errors = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        try:
            if password != request.form.get("confirm", ""):
                raise agents.AgentError("mismatch", "mismatch", "confirm")
            agent = invitations.set_password(db.session(), token, password, current_app.config, origin=origin())
        except invitations.LinkRefused as refusal:
            db.refuse()
            return render_template("admin/set_password.html", link_error=_say(refusal), errors={}), refusal.status
        except agents.AgentError as refusal:
            db.refuse()
            errors[refusal.field or "password"] = _say(refusal)
        else:
            session.clear()  # whoever used this browser before, it is now the invited agent's
            login_user(agent)
            session["signed_in_at"] = utcnow().isoformat()
            flash(_("Your password is set."), "success")
            if agent.role in TOTP_ROLES and not agent.totp_secret:
                return redirect(url_for("approvals.profile"), 303)
            return redirect(url_for("home.index"), 303)
    return render_template("admin/set_password.html", agent=agent, link_error=None, errors=errors,
                           minimum=agents.MIN_PASSWORD), 422 if errors else 200
