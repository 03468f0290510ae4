"""The claimant's forms. Every message is translated; validators never fall back to English."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import DateInput

from ..claims import Claim, Problem, problems
from ..extensions import LANGUAGES
from ..filing import MAX_REPLY_CHARS
from ..models import CaseKind

REQUIRED = _l("Please fill this in.")

KIND_CHOICES = [
    SelectChoice(CaseKind.locked_account.value, _l("My account is locked after too many wrong passwords")),
    SelectChoice(CaseKind.lost_credentials.value, _l("I lost both the email and the phone number of my account")),
    SelectChoice(CaseKind.device_unbind.value, _l("My phone is bound to an account I cannot use")),
]
#: the form's account fields, in the order their hints are read (a later one wins, as on the API)
HINT_FIELDS = ("hint_account_id", "hint_email", "hint_phone")


class RecoverForm(FlaskForm):
    """/recover: what happened, what the claimant remembers, the device, who they are.

    The fields only carry what was typed back to the page; ``validate`` judges them with
    the API's ``Claim``, so the web and the API accept and refuse the same values, and
    each refusal is shown under its field in the claimant's language.
    """

    kind = RadioField(_l("What happened?"), choices=KIND_CHOICES, validate_choice=False)
    hint_account_id = StringField(_l("Account ID"))
    hint_email = StringField(_l("Old email address"))
    hint_phone = StringField(_l("Old phone number"))
    imei1 = StringField(_l("IMEI"))
    imei2 = StringField(_l("Second IMEI (phones with two SIM slots)"))
    serial = StringField(_l("Serial number"))
    model = StringField(_l("Model"))
    purchase_date = StringField(_l("Purchase date"), widget=DateInput())
    shop = StringField(_l("Shop"))
    claimant_name = StringField(_l("Your name"))
    contact_email = StringField(_l("A new email address we can reach you at"))
    language = SelectField(_l("Language for our emails"), validate_choice=False,
                           choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()])
    consent = BooleanField(_l("I agree that Recovery Desk processes the files and details I send to check that the account or device is mine."))

    #: the validated claim, once ``validate`` has passed
    claim: Claim | None = None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)  # the CSRF token
        hints = [name for name in HINT_FIELDS if (self[name].data or "").strip()]
        try:
            self.claim = Claim.model_validate(self._stated(hints))
        except ValidationError as error:
            for problem in problems(Claim, error):
                self._field_for(problem, hints).errors.append(problem.message)
            return False
        return valid

    def _stated(self, hints: list[str]) -> dict:
        stated = {name: self[name].data for name in ("kind", "claimant_name", "contact_email", "language", "imei1",
                                                      "imei2", "serial", "model", "purchase_date", "shop")}
        stated.update(account_hint=[self[name].data for name in hints], consent="true" if self.consent.data else None)
        return {name: value for name, value in stated.items() if value is not None}

    def _field_for(self, problem: Problem, hints: list[str]):
        if problem.field == "account_hint":
            return self[hints[problem.index] if problem.index is not None else HINT_FIELDS[0]]
        return self[problem.field]


class TrackForm(FlaskForm):
    number = StringField(_l("Case number"), validators=[DataRequired(REQUIRED), Length(max=20)])
    token = StringField(_l("Private code"), validators=[DataRequired(REQUIRED), Length(max=100)])


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[DataRequired(_l("Please write a message.")),
                                                        Length(max=MAX_REPLY_CHARS)])


class ActionForm(FlaskForm):
    """A button with only the CSRF token (reopen, leave)."""

    confirm = HiddenField(default="1")
