"""Privileged actions in the browser: request, approve, execute, cancel, object; TOTP step-up.

The case page (review) includes ``approvals/_panel.html``; this blueprint gives it the
case's actions through a context processor. Every form posts here and comes back to the
page it was sent from (``next``, local paths only).
"""
from __future__ import annotations

import click
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user

from .. import actions, agents, db, objections, stepup
from ..cases import get_by_number
from ..extensions import LANGUAGES
from ..actions import APPROVERS, ActionRefused
from ..models import Action, ActionKind, ActionStatus, Agent, Language
from ..navigation import case_panel, staff_link
from ..web import WORKERS, agent_actor, local_target, origin, roles_required

bp = Blueprint("approvals", __name__, cli_group=None)

case_panel("approvals/_panel.html")
staff_link("approvals.queue", _l("Approvals"), *APPROVERS, count=lambda: actions.pending_approval_count(db.session()))
staff_link("approvals.profile", _l("Profile"))

@bp.app_context_processor
def action_helpers():
    return {
        "case_actions": lambda case: actions.for_case(db.session(), case),
        "action_kind_for": lambda case: actions.ACTION_FOR_KIND[case.kind],
        "action_kind_label": ActionKind.title_of,
        "agent_name": _agent_name,
        "unreachable_account": lambda case: actions.unreachable_account(db.session(), case, current_app.config),
    }


def _agent_name(agent_id: int | None) -> str:
    agent = db.session().get(Agent, agent_id) if agent_id else None
    return agent.name if agent else "—"


def _back():
    target = local_target(request.form.get("next"))
    if target:
        return redirect(target)
    return redirect(url_for("approvals.queue" if current_user.role in APPROVERS else "home.index"))


def _load(action_id: int) -> Action:
    """The action or 404."""
    action = db.session().get(Action, action_id)
    if action is None:
        abort(404)
    return action


def _step_up() -> stepup.SteppedUp:
    """A fresh sign-in and a good one-time code, or ``StepUpRefused`` (rolled back by the error handler)."""
    return stepup.require(db.session(), current_user, signed_in_at=session.get("signed_in_at"),
                          code=request.form.get("code", ""), config=current_app.config)


@bp.post("/cases/<number>/actions")
@roles_required(*WORKERS)
def request_action(number: str):
    case = get_by_number(db.session(), number)
    if case is None:
        abort(404)
    outcome = actions.request(db.session(), case, requester=current_user, step_up=_step_up(),
                              config=current_app.config, reason=request.form.get("reason"), origin=origin())
    flash(outcome.message, "success")
    return _back()


@bp.post("/actions/<int:action_id>/approve")
@roles_required(*APPROVERS)
def approve(action_id: int):
    action = _load(action_id)
    if action.requested_by_id == current_user.id:  # before the code is spent
        raise ActionRefused("self_approval", _("You requested this action, so someone else must approve it."))
    outcome = actions.approve(db.session(), action, approver=current_user, step_up=_step_up(),
                              config=current_app.config, origin=origin(),
                              no_one_can_be_told=request.form.get("no_one_can_be_told") == "yes")
    flash(outcome.message, "error" if outcome.code == "voided" else "success")
    return _back()


@bp.post("/actions/<int:action_id>/execute")
@roles_required(*WORKERS)
def execute(action_id: int):
    action = _load(action_id)
    outcome = actions.execute(db.session(), action, executor=current_user, step_up=_step_up(),
                              config=current_app.config, origin=origin())
    flash(outcome.message, "success" if outcome.code == "executed" else "error")
    return _back()


@bp.post("/actions/<int:action_id>/cancel")
@roles_required(*WORKERS)
def cancel(action_id: int):
    outcome = actions.cancel(db.session(), _load(action_id), agent=current_user,
                             reason=request.form.get("reason", ""), origin=origin())
    flash(outcome.message, "success")
    return _back()


@bp.get("/approvals")
@roles_required(*APPROVERS)
def queue():
    session = db.session()
    return render_template("approvals/queue.html", rows=actions.awaiting_approval(session),
                           flagged=objections.flagged(session))


# -- the old owner's objection (public) ------------------------------------------------


@bp.route("/object/<token>", methods=["GET", "POST"])
def objection(token: str):
    """GET shows one button; only the POST cancels, so mail scanners that open links do not."""
    action = actions.find_by_objection(db.session(), token)
    if action is None:
        return render_template("approvals/objection.html", state="unknown"), 404
    if request.method == "GET":  # an action cancelled for another reason can still be objected to, once
        state = ("executed" if action.status == ActionStatus.executed
                 else "cancelled" if action.objected_at else "open")
        return render_template("approvals/objection.html", state=state)
    try:
        outcome = actions.object_to(db.session(), action, origin=origin())
    except ActionRefused:
        db.refuse()
        return render_template("approvals/objection.html", state="executed"), 409
    return render_template("approvals/objection.html", state="cancelled" if outcome.code == "already_objected"
                           else "objected")


# -- the agent's profile: TOTP enrolment -------------------------------------------------


@bp.route("/agent/profile", methods=["GET", "POST"])
@roles_required()
def profile():
    """Enrol (or replace) the TOTP secret: shown as a QR code, kept only once a code proves it.

    Only after a fresh sign-in, and a replacement only with a code from the phone it replaces
    (step-up, the code spent): otherwise a stolen session cookie could move the second factor
    to the thief's phone. An agent who lost that phone asks an admin to reset the codes."""
    if request.method == "POST":
        secret = session.get("totp_pending")
        if not secret:
            flash(_("Start again: the code on the page expired."), "error")
            return redirect(url_for("approvals.profile"))
        try:
            if not stepup.is_fresh(session.get("signed_in_at"), current_app.config["STEP_UP_MINUTES"]):
                raise stepup.StepUpRefused("stale_sign_in", "Sign in again first.")
            if current_user.totp_secret:
                stepup.require(db.session(), current_user, signed_in_at=session.get("signed_in_at"),
                               code=request.form.get("current_code", ""), config=current_app.config)
            stepup.enrol(db.session(), current_user, secret=secret, code=request.form.get("code", ""),
                         origin=origin())
        except stepup.StepUpRefused as refusal:
            db.refuse()
            flash(_say_enrolment(refusal), "error")
            if refusal.code == "stale_sign_in":
                return redirect(url_for("auth.sign_in", next=url_for("approvals.profile",
                                                                     replace=request.args.get("replace"))))
            return redirect(url_for("approvals.profile", replace=request.args.get("replace")))
        session.pop("totp_pending", None)
        login_user(current_user._get_current_object())  # every other session of the agent has ended
        flash(_("Two-step codes are set up."), "success")
        return redirect(url_for("approvals.profile"))
    enrolling = not current_user.totp_secret or request.args.get("replace") == "1"
    secret = uri = None
    if enrolling:
        secret = session.get("totp_pending") or stepup.new_secret()
        session["totp_pending"] = secret
        uri = stepup.provisioning_uri(current_user, secret)
    return render_template("approvals/profile.html", enrolling=enrolling, secret=secret,
                           qr=stepup.qr_data_uri(uri) if uri else None, agent_languages=list(Language),
                           language_names=LANGUAGES)


def _say_enrolment(refusal) -> str:
    """A refused enrolment in the agent's language."""
    if refusal.code == "stale_sign_in":
        return _("Sign in again to set up two-step codes: it needs a recent sign-in.")
    if refusal.code == "bad_code" and current_user.totp_secret:
        return _("Both codes are needed: one from your current phone, one from the new one. "
                 "Check both phones' clocks and try the next codes.")
    return _("That code does not match. Check the phone's clock and try the next code.")


@bp.post("/agent/profile/language")
@roles_required()
def profile_language():
    """The language of the agent's own pages and emails."""
    chosen = request.form.get("language", "")
    if chosen not in {language.value for language in Language}:
        flash(_("Choose one of the languages offered."), "error")
        return redirect(url_for("approvals.profile"))
    agents.set_language(db.session(), current_user._get_current_object(), Language(chosen),
                        actor=agent_actor(), origin=origin())
    session.pop("lang", None)  # the agent's choice now decides, not an earlier ?lang=
    flash(_("Language saved."), "success")
    return redirect(url_for("approvals.profile"))


# -- cron -------------------------------------------------------------------------------

actions_cli = AppGroup("actions", help="Privileged actions.")


@actions_cli.command("run-due")
def run_due():
    """Execute every scheduled action whose cooling-off is over (for cron)."""
    results = actions.run_due()
    for action_id, code, message in results:
        click.echo(f"action {action_id}: {code}: {message}")
    click.echo(f"{sum(code == 'executed' for _id, code, _m in results)} executed, {len(results)} due")


bp.cli.add_command(actions_cli)
