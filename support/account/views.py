"""``/account/sign-in``: behaves like the real account service, so the recovery story can
be shown end to end: failures are counted and the account locks at the threshold."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .. import db
from ..directory import SignIn, directory
from ..extensions import limiter
from ..web import origin

bp = Blueprint("account", __name__, url_prefix="/account")


class AccountSignInForm(FlaskForm):
    login = StringField(_l("Email, phone or account ID"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("60/minute", methods=["POST"])
def sign_in():
    form = AccountSignInForm()
    outcome = account = None
    if form.validate_on_submit():
        result = directory(db.session(), current_app.config).sign_in(
            form.login.data, form.password.data, origin=origin()
        )
        outcome, account = result.outcome, result.account
    # a wrong password and an unknown login get the same answer, as on the real service
    shown = "wrong" if outcome in (SignIn.wrong_password, SignIn.unknown) else outcome and outcome.value
    return render_template("account/sign_in.html", form=form, outcome=shown, account=account)
