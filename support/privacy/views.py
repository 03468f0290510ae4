"""``/privacy/erasure``: a data-protection officer finds a claimant's cases and erases them.

Only the ``dpo`` role. An erasure is a POST with the CSRF token, a reason (the request or
ticket it answers), a ticked confirmation, for a case that is not closed a ticked override,
and a one-time code (step-up); what needs no code is refused before the code is spent.
The erasure and its audit event commit together (``erasure.erase_case``); a replay of
the same form erases nothing more.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import cases, db, erasure, stepup
from ..models import CaseStatus, Role
from ..navigation import staff_link
from ..refusals import Refused
from ..web import agent_actor, keep_refused_attempt, origin, roles_required, step_up_words

bp = Blueprint("privacy", __name__)
staff_link("privacy.erasure_page", _l("Data erasure"), Role.dpo)

#: who may find claimants and erase their data
ERASERS = (Role.dpo,)
MAX_REASON = 500


def _words() -> dict:
    """Refusals in the reader's language, by code."""
    return {
        **step_up_words(),
        "reason_required": _("Write the request or ticket this erasure answers (no personal data in it)."),
        "not_confirmed": _("Tick the box to confirm that this cannot be undone."),
        "case_open": _("This case is not closed. Tick the override to cancel its open actions, close it and erase it."),
    }


@bp.route("/privacy/erasure", methods=["GET", "POST"])
@roles_required(*ERASERS)
def erasure_page():
    """The search (posted, so an email or phone typed here stays out of URLs and logs) and its results;
    ``?q=`` names a case after an erasure."""
    query = (request.form.get("q") if request.method == "POST" else request.args.get("q")) or ""
    query = query.strip()[:254]
    found = erasure.cases_of_claimant(db.session(), query) if query else []
    return render_template("privacy/erasure.html", query=query, found=found, closed=CaseStatus.closed,
                           max_reason=MAX_REASON)


@bp.post("/privacy/erasure/<number>")
@roles_required(*ERASERS)
def erase(number: str):
    """Erase one case's personal data; answers on the page of that case (by number)."""
    db_session = db.session()
    case = cases.get_by_number(db_session, number) or abort(404)
    back = url_for("privacy.erasure_page", q=case.number)
    reason = (request.form.get("reason") or "").strip()
    try:
        if not reason or len(reason) > MAX_REASON:
            raise erasure.ErasureRefused("reason_required", "a reason is required", "reason")
        if request.form.get("confirm") != "yes":
            raise erasure.ErasureRefused("not_confirmed", "the erasure was not confirmed", "confirm")
        open_too = request.form.get("open_too") == "yes"
        if case.erased_at is None and case.status != CaseStatus.closed and not open_too:
            raise erasure.ErasureRefused("case_open", "the case is not closed", "open_too")
        stepup.require(db_session, current_user, signed_in_at=session.get("signed_in_at"),
                       code=request.form.get("code", ""), config=current_app.config)
        erased = erasure.erase_case(db_session, case, actor=agent_actor(), reason=reason, open_too=open_too,
                                    origin=origin())
    except Refused as refusal:
        db.refuse()
        keep_refused_attempt(refusal)
        flash(_words().get(refusal.code, refusal.message), "error")
        return redirect(back, 303)
    if erased is None:
        flash(_("The personal data of %(number)s was already erased.", number=number), "success")
    else:
        flash(_("The personal data of %(number)s is erased.", number=case.number), "success")
    return redirect(back, 303)
