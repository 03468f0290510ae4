"""Agent side of verdicts and checklists: the verdict form's route, and what the case and
evidence pages need to show verdicts and the state of the claimant's checklist.

The pages get their data from the template functions below, so the page views stay as
they are; each function reads through the request's session.
"""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from .. import cases, checklist, db, verdicts
from ..models import Case, CaseStatus, Evidence, Role, Verdict, VerdictReason
from ..web import WORKERS, agent_actor, origin, roles_required
from .blueprint import bp

#: statuses in which a verdict can still change what happens to the case
JUDGING = (CaseStatus.in_review, CaseStatus.waiting_on_claimant)


def may_judge(case: Case) -> bool:
    """The holder of a case under review, or a supervisor, sets verdicts (as for decisions)."""
    return (current_user.is_authenticated and current_user.role in WORKERS and case.status in JUDGING
            and (case.assignee_id == current_user.id or current_user.role == Role.supervisor))


@bp.context_processor
def verdict_context():
    return {"verdict_labels": verdicts.VERDICTS, "verdict_reasons": verdicts.REASONS, "may_judge": may_judge,
            "checklist_of": lambda case: checklist.latest(db.session(), case),
            "outstanding_uploads": lambda case: verdicts.outstanding(db.session(), case)}


@bp.post("/cases/<number>/evidence/<int:evidence_id>/verdict")
@roles_required(*WORKERS)
def set_verdict(number: str, evidence_id: int):
    session = db.session()
    case = cases.get_by_number(session, number)
    item = session.get(Evidence, evidence_id)
    if case is None or item is None or item.case_id != case.id:
        abort(404)
    try:
        cases.expect_version(case, request.form.get("version"))
        if not may_judge(case):
            abort(403)  # only the holder of a case under review, or a supervisor
        verdict = request.form.get("verdict", "")
        reason = request.form.get("reason", "")
        errors = {}
        if verdict not in Verdict.__members__:
            errors["verdict"] = _("Choose a verdict.")
        elif verdict == Verdict.needs_upload and reason not in VerdictReason.__members__:
            errors["reason"] = _("Choose why a new upload is needed.")
        if not errors:
            try:
                verdicts.set_verdict(session, case, item, verdict=Verdict(verdict),
                                     reason=VerdictReason(reason) if reason in VerdictReason.__members__ else None,
                                     note=request.form.get("note"), agent_id=current_user.id, actor=agent_actor(),
                                     origin=origin())
            except verdicts.VerdictRefused as refusal:
                errors[refusal.field or "verdict"] = refusal.message
        if errors:
            db.refuse()
            return _evidence_page_again(number, evidence_id, errors)
    except (cases.StaleCase, StaleDataError):
        from .views import conflict
        return conflict(number)
    flash(_("Verdict saved: %(verdict)s.", verdict=verdicts.VERDICTS[Verdict(verdict)]), "success")
    return redirect(url_for("review.evidence_page", number=case.number, evidence_id=item.id))


def _evidence_page_again(number: str, evidence_id: int, errors: dict):
    """The evidence page with the verdict form as typed and its errors (422, nothing written)."""
    g.verdict_errors = errors
    page = current_app.view_functions["review.evidence_page"](number=number, evidence_id=evidence_id)
    response = current_app.make_response(page)
    response.status_code = 422
    return response
