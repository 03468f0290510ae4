"""The claimant's forms. Every message is translated; validators never fall back to English."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError

from .. import imei
from ..extensions import LANGUAGES
from ..filing import MAX_REPLY_CHARS
from ..models import CaseKind

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REQUIRED = _l("Please fill this in.")

KIND_CHOICES = [
    SelectChoice(CaseKind.locked_account.value, _l("My account is locked after too many wrong passwords")),
    SelectChoice(CaseKind.lost_credentials.value, _l("I lost both the email and the phone number of my account")),
    SelectChoice(CaseKind.device_unbind.value, _l("My phone is bound to an account I cannot use")),
]

def valid_imei(_form, field) -> None:
    if not field.data:
        return
    try:
        field.data = imei.parse(field.data)
    except imei.InvalidImei as error:
        raise ValidationError(imei.explain(error.problem)) from error


def not_in_future(_form, field) -> None:
    if field.data and field.data > date.today():
        raise ValidationError(_l("The purchase date cannot be in the future."))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RecoverForm(FlaskForm):
    """/recover: what happened, what the claimant remembers, the device, who they are."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            return unbound_field.bind(form=form, filters=[_strip], **options)

    kind = RadioField(_l("What happened?"), choices=KIND_CHOICES,
                      validators=[InputRequired(_l("Please choose what happened."))])
    hint_account_id = StringField(_l("Account ID"), validators=[Optional(), Length(max=32)])
    hint_email = StringField(_l("Old email address"), validators=[Optional(), Length(max=254)])
    hint_phone = StringField(_l("Old phone number"), validators=[Optional(), Length(max=32)])
    imei1 = StringField(_l("IMEI"), validators=[InputRequired(imei.PROBLEMS[imei.ImeiProblem.empty]), valid_imei])
    imei2 = StringField(_l("Second IMEI (phones with two SIM slots)"), validators=[Optional(), valid_imei])
    serial = StringField(_l("Serial number"), validators=[Optional(), Length(max=64)])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=120)])
    purchase_date = DateField(_l("Purchase date"), validators=[Optional(), not_in_future])
    shop = StringField(_l("Shop"), validators=[Optional(), Length(max=200)])
    claimant_name = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    contact_email = StringField(_l("A new email address we can reach you at"), validators=[
        DataRequired(REQUIRED), Length(max=254), Regexp(EMAIL, message=_l("Please enter a valid email address."))])
    language = SelectField(_l("Language for our emails"), choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()])
    consent = BooleanField(_l("I agree that Recovery Desk processes the files and details I send to check that the account or device is mine."),
                           validators=[DataRequired(_l("We cannot check your case without your consent."))])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.hint_account_id.data or self.hint_email.data or self.hint_phone.data):
            self.hint_account_id.errors = [*self.hint_account_id.errors,
                                           _l("Please tell us at least one thing you remember about the account.")]
            valid = False
        if self.purchase_date.raw_data and self.purchase_date.raw_data[0] and self.purchase_date.data is None:
            self.purchase_date.errors = [_l("Please enter the date as year-month-day.")]
        return valid


class TrackForm(FlaskForm):
    number = StringField(_l("Case number"), validators=[DataRequired(REQUIRED), Length(max=20)])
    token = StringField(_l("Private code"), validators=[DataRequired(REQUIRED), Length(max=100)])


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[DataRequired(_l("Please write a message.")),
                                                        Length(max=MAX_REPLY_CHARS)])


class ActionForm(FlaskForm):
    """A button with only the CSRF token (reopen, leave)."""

    confirm = HiddenField(default="1")
