"""The claimant's pages: /recover files a case, /track follows it. Thin: the work is in
``support.filing`` and ``support.evidence``; files and the claimant's session are here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import wraps

import click
import magic
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlmodel import select
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from .. import cases, checklist, db, filing, guesses, private_codes, verdicts
from ..evidence import REQUIRED, EvidenceRejected, Inspected, Upload, inspect, missing_evidence
from ..extensions import limiter
from ..models import CaseKind, CaseStatus, Evidence, EvidenceKind
from ..navigation import public_link
from ..storage import storage
from ..web import origin
from . import oversized, staging
from .forms import ActionForm, RecoverForm, ReplyForm, TrackForm
from .words import STATUS_WORDS

bp = Blueprint("intake", __name__)

public_link("intake.recover", _l("File a recovery case"))
public_link("intake.track", _l("Follow your case"))

#: abuse limits; an IP or a contact address that files this often is not one person's mishap
FILINGS_PER_IP = "10/day"
FILINGS_PER_EMAIL = "3/day"
#: every form post counts here, including the ones sent back with an error
UPLOAD_POSTS_PER_IP = "60/hour"
#: wrong private codes only: the right one is always accepted (support/guesses.py)
TOKEN_CHECKS_PER_IP = "10/minute;60/hour"
TOKEN_CHECKS_PER_CASE = "10/hour"
#: files one form may carry
MAX_FILES = 20
SESSION_KEY = "claimant_case"


@bp.app_template_filter("utc_iso")
def utc_iso(moment: datetime) -> str:
    """``2026-03-01T10:00:00Z`` for the ``<time>`` element (stored times are UTC, some read back naive)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


@bp.app_template_filter("private_code")
def private_code(code: str) -> str:
    """A private code as people read it: ``ABCD-EFGH-…`` (pages and emails alike)."""
    return private_codes.grouped(code)


def _succeeded(response) -> bool:
    return response.status_code in (302, 303)


def _contact_email_key() -> str:
    return "contact:" + (request.form.get("contact_email") or "").strip().lower()


# -- filing -------------------------------------------------------------------------------


@bp.route("/recover", methods=["GET", "POST"])
@limiter.limit(FILINGS_PER_IP, methods=["POST"], deduct_when=_succeeded)
@limiter.limit(FILINGS_PER_EMAIL, methods=["POST"], key_func=_contact_email_key, deduct_when=_succeeded)
@limiter.limit(UPLOAD_POSTS_PER_IP, methods=["POST"])
def recover():
    """The one-page claim. A refused file or field sends the page back with everything kept."""
    form = RecoverForm()
    if not form.is_submitted():
        if request.args.get("kind") in CaseKind.__members__:
            form.kind.data = request.args["kind"]
        form.language.data = str(get_locale() or "en")
        return _recover_page(form)
    staged, uploads, file_errors = _collect_evidence()
    fields_valid = form.validate()
    kind = CaseKind(form.kind.data) if form.kind.data in CaseKind.__members__ else None
    missing = missing_evidence(kind, [filing.upload_kind(upload) for upload in uploads]) if kind else []
    if not (fields_valid and kind and not file_errors and not missing):
        return _recover_page(form, staged=staged, file_errors=file_errors, missing=missing), 422
    claim = form.claim.statement(default_language=str(get_locale() or "en"))
    case, token = filing.file_case_with_evidence(db.session(), claim=claim, uploads=uploads,
                                                 config=current_app.config, origin=origin())
    session[SESSION_KEY] = case.number
    session["filed"] = {"number": case.number, "token": token}
    return redirect(url_for(".filed"), 303)


def _collect_evidence() -> tuple[list[staging.Staged], list[Inspected], list[str]]:
    """Files staged by an earlier try plus this request's uploads, each judged now, before
    the request touches the database (judging is slow; the write lock must not wait on it).

    Accepted new files are staged at once, so they survive any other error on the page.
    """
    files, config = storage(), current_app.config
    dropped = set(request.form.getlist("drop"))
    staged: list[staging.Staged] = []
    uploads: list[Inspected] = []
    errors: list[str] = []
    for reference in request.form.getlist("staged"):
        resolved = staging.resolve(reference, files, config)
        if resolved and reference not in dropped:
            try:  # judged again now, before the write transaction, never inside it
                uploads.append(inspect(resolved[1], config))
            except EvidenceRejected as error:  # a staged file that no longer passes (e.g. limits changed)
                errors.append(error.message)
                continue
            staged.append(resolved[0])
    for kind in EvidenceKind:
        for file in request.files.getlist(f"evidence-{kind.value}"):
            if not file.filename:
                continue  # an empty file input
            if len(uploads) >= MAX_FILES:
                errors.append(_("Please send at most %(count)s files.", count=MAX_FILES))
                return staged, uploads, errors
            try:
                inspected = inspect(Upload(filename=file.filename, data=file.read(), kind=kind), config)
            except EvidenceRejected as error:
                errors.append(error.message)
                continue
            staged.append(staging.stage(inspected, files, config))
            uploads.append(inspected)
    return staged, uploads, errors


@dataclass(frozen=True)
class Mark:
    """A required-evidence mark beside a file input: which case kind needs it, in words."""

    case_kind: CaseKind
    text: str


def _evidence_marks() -> dict[EvidenceKind, list[Mark]]:
    """Per file input, the marks of the case kinds that need it; rendered on the server and
    shown by CSS for the chosen kind, so they work without JavaScript. A kind that is one
    of several alternatives (``REQUIRED`` groups them) says "one of" and names them all."""
    marks: dict[EvidenceKind, list[Mark]] = {kind: [] for kind in EvidenceKind}
    for case_kind, groups in REQUIRED.items():
        for group in groups:
            text = _("Required: %(items)s", items=filing.describe(group)) if len(group) > 1 else _("Required")
            for kind in group:
                marks[kind].append(Mark(case_kind, text))
    return marks


def _recover_page(form, *, staged=(), file_errors=(), missing=()):
    return render_template("intake/recover.html", form=form, staged=staged, file_errors=file_errors,
                           missing=[filing.describe(needed) for needed in missing], marks=_evidence_marks(),
                           evidence_kinds=list(EvidenceKind), labels=filing.EVIDENCE_LABELS,
                           max_file_mb=current_app.config["MAX_FILE_MB"],
                           max_request_mb=current_app.config["MAX_REQUEST_MB"])


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """The body was refused unread: say so on a usable page, never reset the connection.

    On the filing form the typed fields come back (read from the start of the body, see
    ``oversized``) with the files staged by an earlier try; none of this body's files is kept.
    """
    limit = current_app.config["MAX_REQUEST_MB"]
    if request.endpoint in ("intake.add_evidence", "intake.answer_checklist") and _claimant_case():
        flash(_("The files you sent are larger than %(limit)s MB together. Nothing was saved. Please send fewer or smaller files.",
                limit=limit), "error")
        return _case_page(_claimant_case(), ReplyForm(formdata=None)), 413
    typed = oversized.fields_before_files(request.environ) if request.endpoint == "intake.recover" else None
    form = RecoverForm(formdata=typed or None)
    if not typed:
        form.language.data = str(get_locale() or "en")
    message = _("The files you sent are larger than %(limit)s MB together, so none of them was saved. Your answers are kept: please choose fewer or smaller files and send the form again.",
                limit=limit)
    return _recover_page(form, staged=_staged_in(typed), file_errors=[message]), 413


def _staged_in(typed) -> list[staging.Staged]:
    """The files staged by an earlier try that the refused form still carried."""
    if not typed:
        return []
    dropped = set(typed.getlist("drop"))
    resolved = (staging.resolve(reference, storage(), current_app.config) for reference in typed.getlist("staged")
                if reference not in dropped)
    return [found[0] for found in resolved if found]


@bp.errorhandler(CSRFError)
def session_expired(_error):
    """A missing or stale CSRF token: the typed fields come back, files are not touched."""
    message = _("Your session expired. Please send the form again.")
    if request.endpoint == "intake.recover":
        form = RecoverForm()
        form.validate()
        return _recover_page(form, file_errors=[message]), 400
    flash(message, "error")
    return redirect(url_for(".case" if _claimant_case() else ".track"), 303)


@bp.get("/recover/filed")
def filed():
    """Shows the private code once; a reload shows the tracking page instead."""
    shown = session.pop("filed", None)
    if not shown:
        return redirect(url_for(".case"))
    return render_template("intake/filed.html", number=shown["number"], token=shown["token"])


@bp.get("/recover/confirm/<token>")
@db.writes
def confirm(token: str):
    """The emailed link: confirms the contact address and puts the case in the queue."""
    case = filing.confirm_contact_link(db.session(), token, origin())
    if case is None:
        return render_template("intake/confirmed.html", case=None), 404
    session[SESSION_KEY] = case.number
    return render_template("intake/confirmed.html", case=case)


# -- tracking -----------------------------------------------------------------------------


def _claimant_case():
    """The case this browser proved it may see (number and token, or the emailed link); locked
    for a post, which changes the case as it is now."""
    number = session.get(SESSION_KEY)
    return cases.get_by_number(db.session(), number, for_update=request.method == "POST") if number else None


def claimant_required(view):
    """Only for a browser that showed the case's token; others go to the /track form."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        case = _claimant_case()
        if case is None:
            return redirect(url_for(".track"))
        return view(case, *args, **kwargs)

    return wrapped


def _not_found_answer(form: TrackForm):
    """The one answer for an unknown number and a wrong token (the code is not echoed back).

    The wrong guess is counted; past the limits of its address or its case it is a 429.
    """
    guesses.wrong(form.number.data or "", scope="claimant-token", per_source=TOKEN_CHECKS_PER_IP,
                  per_case=TOKEN_CHECKS_PER_CASE)
    form.token.raw_data, form.token.data = [], ""
    form.token.errors = [_("We could not find a case with this number and private code. Check both and try again.")]
    return render_template("intake/track.html", form=form), 404


@bp.route("/track", methods=["GET", "POST"])
def track():
    form = TrackForm(number=request.args.get("number", "")[:20] or None)  # the emailed case link names it
    if not form.validate_on_submit():
        return render_template("intake/track.html", form=form), 422 if form.is_submitted() else 200
    case = cases.find_for_claimant(db.session(), form.number.data, form.token.data.strip())
    if case is None:
        return _not_found_answer(form)
    session[SESSION_KEY] = case.number
    return redirect(url_for(".case"), 303)


@bp.get("/track/<number>")
def track_link(number: str):
    """The emailed link: the token leaves the address bar at once (the session remembers)."""
    case = cases.find_for_claimant(db.session(), number, request.args.get("t", ""))
    if case is None:
        return _not_found_answer(TrackForm(formdata=None, number=number))
    session[SESSION_KEY] = case.number
    return redirect(url_for(".case"), 303)


def _case_page(case, reply_form, file_errors=(), checklist_errors=None):
    if case.erased_at is not None:  # nothing of the claimant's is left to show, and nothing can be added
        return render_template("intake/erased.html", case=case, file_errors=file_errors)
    config = current_app.config
    evidence = db.session().exec(select(Evidence).where(Evidence.case_id == case.id)
                                 .order_by(Evidence.created_at, Evidence.id)).all()
    return render_template("intake/case.html", case=case, status_words=STATUS_WORDS, reply_form=reply_form,
                           messages=cases.public_messages(db.session(), case), evidence=evidence,
                           labels=filing.EVIDENCE_LABELS, evidence_kinds=list(EvidenceKind),
                           file_errors=file_errors, can_reopen=filing.can_reopen(case, config),
                           action_form=ActionForm(formdata=None), max_file_mb=config["MAX_FILE_MB"],
                           closed=case.status == CaseStatus.closed, checklist=checklist.latest(db.session(), case),
                           checklist_errors=checklist_errors or {}, reasons=verdicts.REASONS)


@bp.get("/track/case")
@claimant_required
def case(case):
    return _case_page(case, ReplyForm(formdata=None))


@bp.post("/track/case/reply")
@limiter.limit(UPLOAD_POSTS_PER_IP)
@claimant_required
def reply(case):
    form = ReplyForm()
    if not form.validate():
        return _case_page(case, form), 422
    try:
        filing.claimant_reply(db.session(), case, form.body.data, origin())
    except filing.ClaimantActionRefused as error:
        form.body.errors = [error.message]
        return _case_page(case, form), 422
    flash(_("Your message was sent."), "success")
    return redirect(url_for(".case"), 303)


def claimant_upload(view):
    """An upload post from a browser that showed a case's token; others go to /track.

    Unlike ``claimant_required`` the case is not read here: an upload request writes, so
    its first query takes the write lock, and the view judges the files (slow) before it.
    A post without a valid form token gets the case page back with nothing stored.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not session.get(SESSION_KEY):
            return redirect(url_for(".track"))
        if not ActionForm().validate():
            case = _claimant_case()
            if case is None:
                return redirect(url_for(".track"))
            return _case_page(case, ReplyForm(formdata=None), [_("Your session expired. Please try again.")]), 400
        return view(*args, **kwargs)

    return wrapped


@bp.post("/track/case/evidence")
@limiter.limit(UPLOAD_POSTS_PER_IP)
@claimant_upload
def add_evidence():
    """More files; refused ones are named, accepted ones in the same post are kept.

    The files are judged before the case is read: this request writes, so its first query
    takes the write lock, and judging files is slow.
    """
    accepted, errors = [], []
    kind = request.form.get("kind", EvidenceKind.other.value)
    kind = EvidenceKind(kind) if kind in EvidenceKind.__members__ else EvidenceKind.other
    for file in request.files.getlist("evidence")[:MAX_FILES]:
        if not file.filename:
            continue
        try:
            accepted.append(inspect(Upload(filename=file.filename, data=file.read(), kind=kind), current_app.config))
        except EvidenceRejected as error:
            errors.append(error.message)
    case = _claimant_case()
    if case is None:
        return redirect(url_for(".track"))
    if not accepted and not errors:
        errors.append(_("Please choose at least one file."))
    if accepted:
        try:
            filing.add_claimant_evidence(db.session(), case, accepted, current_app.config, origin())
        except filing.ClaimantActionRefused as error:
            return _case_page(case, ReplyForm(formdata=None), [error.message]), 422
    if errors:  # the accepted files are committed: the page is a success with notes
        for error in errors:
            flash(error, "error")
    if accepted:
        flash(_("%(count)s file(s) added to your case.", count=len(accepted)), "success")
    return redirect(url_for(".case"), 303)


@bp.post("/track/case/checklist")
@limiter.limit(UPLOAD_POSTS_PER_IP)
@claimant_upload
def answer_checklist():
    """One post answers any of the open requested items: a file per slot, words per question.

    Files are judged before the case is read (as in ``add_evidence``). A refused file is
    named beside its slot while the other answers of the post are kept; an item that is
    not this case's, already answered or cancelled refuses the whole post.
    """
    files, texts, errors = {}, {}, {}
    for name, file in list(request.files.items(multi=True))[:MAX_FILES]:
        item_id = _item_id(name, "item-")
        if item_id is None or not file.filename:
            continue
        try:
            files[item_id] = inspect(Upload(filename=file.filename, data=file.read(), kind=EvidenceKind.other),
                                     current_app.config)
        except EvidenceRejected as error:
            errors[item_id] = error.message
    for name, value in request.form.items():
        item_id = _item_id(name, "answer-")
        if item_id is not None and value.strip():
            texts[item_id] = value
    case = _claimant_case()
    if case is None:
        return redirect(url_for(".track"))
    if not files and not texts:
        slots = {item.id for item in checklist.open_items(db.session(), case)}
        elsewhere = [message for item_id, message in errors.items() if item_id not in slots]  # no slot to show it by
        message = _("Please choose a file or write an answer for at least one item.")
        return _case_page(case, ReplyForm(formdata=None), elsewhere if errors else [message], errors), 422
    try:
        answered = filing.answer_checklist(db.session(), case, files=files, texts=texts, config=current_app.config,
                                           origin=origin())
    except (checklist.ItemRefused, filing.ClaimantActionRefused, EvidenceRejected) as error:
        db.refuse()
        return _case_page(case, ReplyForm(formdata=None), [error.message], errors), error.status
    if errors:  # the accepted answers are saved; the refused files are named beside their slots
        flash(_("%(count)s item(s) answered.", count=len(answered)), "success")
        return _case_page(case, ReplyForm(formdata=None), [], errors)
    flash(_("%(count)s item(s) answered.", count=len(answered)), "success")
    return redirect(url_for(".case"), 303)


def _item_id(name: str, prefix: str) -> int | None:
    number = name.removeprefix(prefix) if name.startswith(prefix) else ""
    return int(number) if number.isdigit() and len(number) < 12 else None


@bp.post("/track/case/reopen")
@claimant_required
def reopen(case):
    if not ActionForm().validate():
        return redirect(url_for(".case"), 303)
    try:
        filing.reopen(db.session(), case, current_app.config, origin())
    except filing.ClaimantActionRefused as error:
        flash(error.message, "error")
        return _case_page(case, ReplyForm(formdata=None)), 422
    flash(_("Your case is open again and back in our queue."), "success")
    return redirect(url_for(".case"), 303)


@bp.post("/track/leave")
def leave():
    """Forget the case in this browser (a shared phone, an internet café)."""
    session.pop(SESSION_KEY, None)
    return redirect(url_for(".track"), 303)


@bp.get("/track/case/evidence/<int:evidence_id>/thumbnail")
@claimant_required
def thumbnail(case, evidence_id: int):
    """A thumbnail of the claimant's own evidence; never the original, never from /static."""
    item = db.session().get(Evidence, evidence_id)
    if item is None or item.case_id != case.id or not item.thumbnail_sha256:
        raise NotFound()
    try:
        data = storage().open("thumbnails", item.thumbnail_sha256)
    except FileNotFoundError:
        raise NotFound() from None
    response = current_app.response_class(data, mimetype=magic.from_buffer(data[:64], mime=True))
    response.headers.update({"Content-Security-Policy": "default-src 'none'", "Content-Disposition": "inline"})
    return response


# -- housekeeping ---------------------------------------------------------------------------


@bp.cli.command("purge-staged")
@click.option("--older-than-hours", default=48, show_default=True, type=int,
              help="Only files untouched for this long (staged references live 24 hours).")
def purge_staged(older_than_hours: int):
    """Delete stored files that no evidence references (staged but never filed)."""
    with db.transaction() as db_session:
        removed = staging.purge(db_session, storage(), older_than=timedelta(hours=older_than_hours))
    click.echo(f"Removed {removed} unreferenced file(s).")
