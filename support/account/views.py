"""``/account/sign-in`` and ``/account/reset``: behave like the real account service, so the
recovery story can be shown end to end: failures are counted and the account locks at the
threshold; a password can be reset through the account's email."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import audit, checks, db, links, mail
from ..directory import SignIn, directory
from ..extensions import limiter
from ..models import AccountStatus
from ..web import origin
from . import reset as resets

bp = Blueprint("account", __name__, url_prefix="/account")


class AccountSignInForm(FlaskForm):
    login = StringField(_l("Email, phone or account ID"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email of your account"), validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=resets.MIN_PASSWORD, max=1024,
                               message=_l("Use at least %(count)s characters.", count=resets.MIN_PASSWORD))])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords are not the same."))])


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("60/minute", methods=["POST"])
def sign_in():
    form = AccountSignInForm()
    outcome = account = attempts_left = None
    if form.validate_on_submit():
        result = directory(db.session(), current_app.config).sign_in(
            form.login.data, form.password.data, origin=origin()
        )
        outcome, account, attempts_left = result.outcome, result.account, result.attempts_left
        if outcome == SignIn.ok:  # the owner still uses the account: the cases about its devices say so
            checks.recheck_account(db.session(), account, current_app.config, origin())
    # a wrong password and an unknown login get the same answer, attempts left included
    # (the directory counts them for unknown names too), as on the real service
    shown = "wrong" if outcome in (SignIn.wrong_password, SignIn.unknown) else outcome and outcome.value
    return render_template("account/sign_in.html", form=form, outcome=shown, account=account,
                           attempts_left=attempts_left)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def reset():
    """Ask for a link. The answer is the same whether or not the email has an account."""
    form = ResetRequestForm()
    if not form.validate_on_submit():
        return render_template("account/reset_request.html", form=form, sent=False)
    session = db.session()
    account = resets.find_by_email(session, form.email.data, current_app.config)
    if account is not None:
        link = links.public("account.reset_with_token",
                            token=resets.make_token(account, current_app.config["SECRET_KEY"]))
        context = {"account": account, "link": link, "minutes": resets.LINK_MINUTES}
        mail.queue_email(session, to=account.email, subject=_("Reset your password"),
                         language=str(get_locale() or "en"), body=render_template("account/emails/reset.txt", **context))
        audit.record(session, actor=audit.Actor("account", str(account.id), None), action="account.reset_requested",
                     subject=("account", account.id), origin=origin())
    return render_template("account/reset_request.html", form=form, sent=True)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def reset_with_token(token: str):
    session = db.session()
    try:
        account = resets.account_for(session, token, current_app.config)
    except resets.ResetRefused as refusal:
        return render_template("account/reset_password.html", problem=refusal.code, form=None), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        resets.set_new_password(session, token, form.password.data, current_app.config, origin=origin())
        still_locked = account.status == AccountStatus.locked
        return render_template("account/reset_password.html", done=True, still_locked=still_locked, form=None)
    return render_template("account/reset_password.html", form=form, problem=None), 422 if form.errors else 200
