"""Agent pages: the queue, the case page, the conversation, decisions, the dashboard.

Every write names the case version the agent saw; a stale one answers 409 with the
agent's draft shown again, and writes nothing.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import select

from .. import cases, db, db_together, navigation, objections, verdicts
from ..directory import directory
from ..models import Agent, CannedReply, Case, EvidenceKind, Message, MessageVisibility, Role
from ..web import READERS, WORKERS, agent_actor, local_target, origin, roles_required
from . import bulk, canned, cli, extracted, labels, notify, presence, saved_views, verdict_views
from . import dashboard as dashboard_figures
from . import queue as queue_rules
from . import queue_rows
from .blueprint import bp
from .evidence import evidence_items

__all__ = ["bp", "cli", "verdict_views"]  # cli adds the `cases` commands to bp, verdict_views its routes

navigation.staff_link("review.queue", _l("Queue"))
navigation.staff_link("review.dashboard", _l("Dashboard"))
navigation.staff_link("review.canned_replies", _l("Canned replies"), Role.admin)
navigation.staff_link("review.queue", _l("Flagged"), Role.supervisor, Role.admin, args={"flagged": "1"},
                      count=lambda: objections.open_flagged_count(db.session()))
navigation.staff_link("review.queue", _l("Replies"), *WORKERS, args={"assignee": "me", "status": "in_review"},
                      count=lambda: queue_rules.my_replied_cases(db.session(), agent_id=current_user.id))


@bp.context_processor
def review_labels():
    return {**labels.as_context(), "viewer_text": _viewer_text}


def get_case(number: str) -> Case:
    """The case with this number, or 404."""
    case = cases.get_by_number(db.session(), number)
    if case is None:
        abort(404)
    return case


def conflict(number: str):
    """409: the case changed under the agent; nothing is written. The case page is shown as it
    is now, with the agent's draft back in its form, to check what changed and send again."""
    db.session().rollback()
    return render_case(get_case(number), conflict=True, status=409)


def writes_case(view):
    """A POST that changes the case: stale versions and lost races become a 409."""

    @wraps(view)
    def wrapped(number: str):
        case = get_case(number)
        try:
            return view(case)
        except (cases.StaleCase, StaleDataError):
            return conflict(number)
        except (cases.TransitionError, cases.ClaimedByOther) as error:
            db.refuse()  # the answer is a redirect, yet nothing the view wrote commits
            message = (_("%(agent)s has this case. Ask them or a supervisor to hand it over.",
                         agent=_agent_name(case.assignee_id)) if isinstance(error, cases.ClaimedByOther)
                       else _("This step is not possible in the case's current status."))
            flash(message, "error")
            return redirect(url_for("review.case", number=number))

    return wrapped


def _agent_name(agent_id: int | None) -> str:
    agent = db.session().get(Agent, agent_id) if agent_id else None
    return agent.name if agent else _("Nobody")


# -- the queue ----------------------------------------------------------------------------


#: the queue page's short lists, one statement: counts per status, the team (assignee names and
#: the bulk-assign list), the agent's saved views
QUEUE_LISTS = db_together.ReadTogether(counts=queue_rules.COUNTS, views=saved_views.LISTING,
                                       team=select(Agent.id, Agent.name, Agent.role, Agent.active))


@bp.get("/queue")
@roles_required(*READERS)
def queue():
    chosen = queue_rules.QueueFilter.from_args(request.args)
    session = db.session()
    try:
        found = queue_rules.page(session, chosen, agent_id=current_user.id)
    except queue_rules.BadCursor:
        abort(400)
    listed = QUEUE_LISTS(session, agent_id=current_user.id)
    team = sorted(listed["team"], key=lambda agent: agent["name"])
    supervising = current_user.role == Role.supervisor
    return render_template("review/queue.html", chosen=chosen, page=found, counts=queue_rules.counts_of(listed["counts"]),
                           rows=queue_rows.rows(found.cases, now=cases.utcnow(),
                                                assignees={agent["id"]: agent["name"] for agent in team},
                                                matches=found.matches),
                           views=sorted(listed["views"], key=lambda view: view["name"]),
                           view_query=saved_views.query_of(chosen),
                           agents=[agent for agent in team if agent["active"] and agent["role"] in WORKERS]
                           if supervising else [], can_bulk_assign=supervising)


def _back_to_queue():
    return redirect(local_target(request.form.get("next")) or url_for("review.queue"))


@bp.post("/queue/views")
@roles_required(*READERS)
def save_view():
    """Save the queue's current filters and sort under a name, for this agent only."""
    chosen = queue_rules.QueueFilter.from_args(request.form)
    try:
        view = saved_views.save(db.session(), agent_id=current_user.id, name=request.form.get("view_name", ""),
                                chosen=chosen)
    except saved_views.ViewRefused as refusal:
        db.refuse()
        flash(_("Give the view a name of up to 60 characters.") if str(refusal) == "name"
              else _("You have 20 saved views already: delete one first."), "error")
        return redirect(url_for("review.queue") + "?" + saved_views.query_of(chosen))
    flash(_("View “%(name)s” saved.", name=view.name), "success")
    return redirect(url_for("review.queue") + "?" + view.query)


@bp.post("/queue/views/<int:view_id>/delete")
@roles_required(*READERS)
def delete_view(view_id: int):
    """Another agent's view is a 404: its existence is nobody else's business."""
    view = saved_views.get_own(db.session(), view_id=view_id, agent_id=current_user.id)
    if view is None:
        abort(404)
    db.session().delete(view)
    flash(_("View “%(name)s” deleted.", name=view.name), "success")
    return redirect(url_for("review.queue"))


@bp.post("/queue/assign")
@roles_required(Role.supervisor)
def bulk_assign():
    """A supervisor assigns the ticked cases to one agent: one transaction, one audit event per case."""
    try:
        chosen = bulk.parse_choices(request.form.getlist("case"))
    except ValueError:
        abort(400)
    chosen_agent = request.form.get("agent_id", "")
    agent = db.session().get(Agent, int(chosen_agent)) if chosen_agent.isdigit() else None
    if agent is None or not agent.active or agent.role not in WORKERS:
        flash(_("Choose an active agent."), "error")
        return _back_to_queue()
    if not chosen:
        flash(_("Tick the cases to assign."), "error")
        return _back_to_queue()
    try:
        result = bulk.assign(db.session(), chosen=chosen, agent_id=agent.id, actor=agent_actor(), origin=origin())
    except (cases.StaleCase, StaleDataError):
        db.refuse()
        flash(_("A case changed after you loaded the queue, so nothing was assigned. Check the list and try again."),
              "error")
        return _back_to_queue()
    if result.assigned:
        flash(_("Assigned to %(agent)s: %(count)s.", count=len(result.assigned), agent=agent.name), "success")
    if result.skipped_closed:
        flash(_("Skipped, no longer open: %(numbers)s.", numbers=", ".join(result.skipped_closed)), "error")
    if result.unchanged:
        flash(_("Already with %(agent)s: %(numbers)s.", agent=agent.name, numbers=", ".join(result.unchanged)),
              "success")
    return _back_to_queue()


@bp.post("/queue/take-next")
@roles_required(*WORKERS)
def take_next():
    case = cases.take_next(db.session(), agent_id=current_user.id, actor=agent_actor(), origin=origin())
    if case is None:
        flash(_("No unassigned case is waiting. Well done."), "success")
        return redirect(url_for("review.queue"))
    return redirect(url_for("review.case", number=case.number))


# -- the case page -------------------------------------------------------------------------


def render_case(case: Case, *, errors: dict | None = None, status: int = 200, conflict: bool = False):
    session = db.session()
    accounts = directory(session, current_app.config)
    device = accounts.find_device(case.imei1) or (accounts.find_device(case.imei2) if case.imei2 else None)
    account = accounts.get_account(device.account_id) if device and device.account_id else None
    messages = list(session.exec(select(Message).where(Message.case_id == case.id).order_by(Message.created_at, Message.id)))
    authors = {agent.id: agent.name for agent in session.exec(select(Agent))}
    items = evidence_items(session, case)
    counts = extracted.value_counts(session, items)
    page = render_template(
        "review/case.html", case=case, device=device, account=account, evidence=items,
        analysis={item.id: extracted.analysis_summary(item, counts.get(item.id, 0)) for item in items},
        messages=messages, authors=authors, replies=canned.for_language(session, case.language),
        replied=queue_rules.claimant_replied(session, case.id), errors=errors or {},
        form=request.form if request.method == "POST" else {}, evidence_kind_values=[k.value for k in EvidenceKind],
        agents=[a for a in session.exec(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name))
                if a.role in WORKERS],
        can_work=current_user.role in WORKERS, is_supervisor=current_user.role == Role.supervisor,
        conflict=conflict, viewers=presence.others(session, case_id=case.id, agent_id=current_user.id,
                                                   now=cases.utcnow(), ttl_seconds=_presence_ttl()),
        presence_poll_seconds=current_app.config["PRESENCE_POLL_SECONDS"],
    )
    return page, status


def _presence_ttl() -> int:
    return current_app.config["PRESENCE_TTL_SECONDS"]


def _viewer_text(viewer: presence.Viewer) -> str:
    return (_("%(name)s is writing a reply", name=viewer.name) if viewer.writing
            else _("%(name)s is viewing this case", name=viewer.name))


@bp.post("/cases/<number>/presence")
@roles_required(*READERS)
def case_presence(number: str):
    """The case page's heartbeat (JSON): "I still have it open", answered with who else has."""
    case, session, now = get_case(number), db.session(), cases.utcnow()
    body = request.get_json(silent=True) or {}
    presence.forget_stale(session, case_id=case.id, now=now, ttl_seconds=_presence_ttl())
    presence.beat(session, case_id=case.id, agent_id=current_user.id, writing=body.get("writing") is True, now=now)
    viewers = presence.others(session, case_id=case.id, agent_id=current_user.id, now=now, ttl_seconds=_presence_ttl())
    return jsonify(others=[{"name": viewer.name, "writing": viewer.writing, "text": _viewer_text(viewer)}
                           for viewer in viewers], poll_seconds=current_app.config["PRESENCE_POLL_SECONDS"])


@bp.post("/cases/<number>/presence/leave")
@roles_required(*READERS)
def case_presence_leave(number: str):
    """The page is closing (sent with ``navigator.sendBeacon``): stop showing this agent at once."""
    presence.leave(db.session(), case_id=get_case(number).id, agent_id=current_user.id)
    return "", 204


@bp.get("/cases/<number>")
@roles_required(*READERS)
def case(number: str):
    return render_case(get_case(number))


@bp.post("/cases/<number>/claim")
@roles_required(*WORKERS)
@writes_case
def claim(case: Case):
    cases.claim(db.session(), case, agent_id=current_user.id, version=request.form.get("version"),
                actor=agent_actor(), origin=origin())
    flash(_("You have this case now."), "success")
    return redirect(url_for("review.case", number=case.number))


@bp.post("/cases/<number>/release")
@roles_required(*WORKERS)
@writes_case
def release(case: Case):
    if case.assignee_id not in (None, current_user.id) and current_user.role != Role.supervisor:
        abort(403)  # only the holder or a supervisor gives someone's case back
    cases.release(db.session(), case, version=request.form.get("version"), actor=agent_actor(), origin=origin())
    flash(_("The case is back in the queue."), "success")
    return redirect(url_for("review.queue"))


@bp.post("/cases/<number>/reassign")
@roles_required(Role.supervisor)
@writes_case
def reassign(case: Case):
    chosen = request.form.get("agent_id", "")
    agent = db.session().get(Agent, int(chosen)) if chosen.isdigit() else None
    if chosen and (agent is None or not agent.active or agent.role not in WORKERS):
        return render_case(case, errors={"agent_id": _("Choose an active agent.")}, status=422)
    cases.reassign(db.session(), case, agent_id=agent.id if agent else None, version=request.form.get("version"),
                   actor=agent_actor(), reason=request.form.get("reason") or None, origin=origin())
    flash(_("Case handed to %(agent)s.", agent=agent.name if agent else _("the queue")), "success")
    return redirect(url_for("review.case", number=case.number))


@bp.post("/cases/<number>/messages")
@roles_required(*WORKERS)
@writes_case
def post_message(case: Case):
    body = (request.form.get("body") or "").strip()
    internal = request.form.get("visibility") == "internal"
    if not body or len(body) > 5000:
        return render_case(case, errors={"body": _("Write a message of up to 5000 characters.")}, status=422)
    cases.expect_version(case, request.form.get("version"))
    visibility = MessageVisibility.internal if internal else MessageVisibility.public
    cases.add_message(db.session(), case, body=body, actor=agent_actor(), visibility=visibility, origin=origin())
    if not internal:
        notify.email_claimant(db.session(), case, template="message", subject=_l("News on your case %(number)s"),
                              body=body, requested={})
    flash(_("Internal note added.") if internal else _("Message sent to the claimant."), "success")
    return redirect(url_for("review.case", number=case.number))


@bp.post("/cases/<number>/request-information")
@roles_required(*WORKERS)
@writes_case
def request_information(case: Case):
    requested = {kind.value: request.form.get(f"reason_{kind.value}", "").strip()[:500] for kind in EvidenceKind}
    requested = {kind: reason for kind, reason in requested.items() if reason}
    question = (request.form.get("question") or "").strip()[:2000]
    replacing = verdicts.outstanding(db.session(), case)  # files judged "needs a new upload": asked for anyway
    if not requested and not question and not replacing:
        return render_case(case, errors={"requested": _("Pick at least one item: give a reason for at least one "
                                                        "kind of evidence, or ask a question.")}, status=422)
    body = (request.form.get("request_body") or "").strip()[:5000]
    with force_locale(case.language or "en"):  # the claimant reads it, in their language
        lines = [body or _("We need a little more to decide on your case.")]
        lines += [f"- {labels.EVIDENCE_KINDS[item.kind.value]} ({_('a new upload of %(name)s', name=item.original_name or '#%s' % item.id)}): "
                  f"{verdicts.REASONS[item.verdict_reason]}" + (f" — {item.verdict_note}" if item.verdict_note else "")
                  for item in replacing]
        lines += [f"- {labels.EVIDENCE_KINDS[kind]}: {reason}" for kind, reason in requested.items()]
        lines += [f"- {_('Question')}: {question}"] if question else []
    body = "\n".join(lines)  # the items are part of the message, so every channel shows them
    cases.request_information(db.session(), case, requested=requested, body=body, question=question,
                              version=request.form.get("version"), actor=agent_actor(), origin=origin())
    notify.email_claimant(db.session(), case, template="message",
                          subject=_l("We need more information for case %(number)s"), body=body, requested=requested)
    flash(_("The claimant has been asked; the case waits for their answer."), "success")
    return redirect(url_for("review.case", number=case.number))


@bp.post("/cases/<number>/decision")
@roles_required(*WORKERS)
@writes_case
def decide(case: Case):
    decision = request.form.get("decision")
    public_reason = (request.form.get("public_reason") or "").strip()[:5000]
    if decision not in {"approve", "reject"} or not public_reason:
        return render_case(case, errors={"decision": _("Choose approve or reject and write the reason the claimant will read.")},
                           status=422)
    try:
        cases.decide(db.session(), case, approve=decision == "approve", agent_id=current_user.id,
                     public_reason=public_reason, internal_note=(request.form.get("internal_note") or "")[:5000],
                     version=request.form.get("version"), actor=agent_actor(), config=current_app.config,
                     supervisor=current_user.role == Role.supervisor, origin=origin())
    except verdicts.UploadsOutstanding as refusal:  # the page again, the reason kept, the files named
        db.refuse()
        return render_case(case, errors={"decision": refusal.message}, status=409)
    notify.email_claimant(db.session(), case, template="message", subject=_l("A decision on your case %(number)s"),
                          body=public_reason, requested={})
    flash(_("Case approved.") if decision == "approve" else _("Case rejected."), "success")
    return redirect(url_for("review.case", number=case.number))


@bp.post("/cases/<number>/flag/clear")
@roles_required(*objections.SUPERVISORS)
@writes_case
def clear_flag(case: Case):
    """A supervisor resolves the owner's objection in writing; the case's status and actions stay as they are."""
    cases.expect_version(case, request.form.get("version"))
    try:
        objections.clear(db.session(), case, agent=current_user, reason=request.form.get("reason", ""),
                         origin=origin())
    except objections.FlagRefused as refusal:
        if refusal.code != "reason_required":
            raise
        db.refuse()
        return render_case(case, errors={"reason": _("Write why the flag can be cleared.")}, status=422)
    flash(_("The flag is cleared. Nothing was approved by it."), "success")
    return redirect(url_for("review.case", number=case.number))


# -- dashboard and canned replies -----------------------------------------------------------


@bp.get("/dashboard")
@roles_required(*READERS)
def dashboard():
    return render_template("review/dashboard.html", figures=dashboard_figures.build(db.session()))


def admin_only(view):
    return roles_required(Role.admin)(view)


@bp.get("/canned-replies")
@admin_only
def canned_replies():
    editing = request.args.get("edit", "")
    reply = db.session().get(CannedReply, int(editing)) if editing.isdigit() else None
    return render_template("review/canned.html", replies=canned.all_replies(db.session()), reply=reply,
                           form={}, errors={})


@bp.post("/canned-replies")
@admin_only
def save_canned_reply():
    form = {key: (request.form.get(key) or "").strip() for key in ("id", "key", "language", "title", "body")}
    errors = {}
    if not form["key"] or len(form["key"]) > 60 or not form["key"].replace("_", "").isalnum():
        errors["key"] = _("Use letters, digits and underscores (up to 60).")
    if form["language"] not in ("en", "ru", "it"):
        errors["language"] = _("Choose a language.")
    if not form["title"] or len(form["title"]) > 200:
        errors["title"] = _("Write a title of up to 200 characters.")
    if not form["body"]:
        errors["body"] = _("Write the reply.")
    if not errors:
        try:
            canned.save(db.session(), reply_id=int(form["id"]) if form["id"].isdigit() else None, key=form["key"],
                        language=form["language"], title=form["title"], body=form["body"],
                        actor=agent_actor(), origin=origin())
        except LookupError:
            abort(404)
        except ValueError:
            errors["key"] = _("A reply with this key already exists in this language.")
    if errors:
        db.session().rollback()
        return render_template("review/canned.html", replies=canned.all_replies(db.session()), reply=None,
                               form=form, errors=errors), 422
    flash(_("Reply saved."), "success")
    return redirect(url_for("review.canned_replies"))


@bp.post("/canned-replies/defaults")
@admin_only
def seed_canned_replies():
    added = canned.seed_defaults(db.session())
    flash(_("%(count)s default replies added.", count=added), "success")
    return redirect(url_for("review.canned_replies"))


@bp.get("/canned-replies/<int:reply_id>/delete")
@admin_only
def confirm_canned_reply_deletion(reply_id: int):
    """The question before a deletion: the reply in full, and one button that deletes it."""
    reply = db.session().get(CannedReply, reply_id) or abort(404)
    return render_template("review/canned_delete.html", reply=reply)


@bp.post("/canned-replies/<int:reply_id>/delete")
@admin_only
def delete_canned_reply(reply_id: int):
    """Deletes only when the confirmation page's button sent ``confirm=yes``; any other POST
    (an old page, a forged form) is sent to that page first."""
    reply = db.session().get(CannedReply, reply_id) or abort(404)
    if request.form.get("confirm") != "yes":
        return redirect(url_for("review.confirm_canned_reply_deletion", reply_id=reply.id), 303)
    canned.delete(db.session(), reply, actor=agent_actor(), origin=origin())
    flash(_("Reply deleted."), "success")
    return redirect(url_for("review.canned_replies"))

