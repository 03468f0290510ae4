"""The claim's field rules: each rule's JSON Schema accepts exactly what its check accepts."""
from __future__ import annotations

import re

import hypothesis
import pytest
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from support import claims, imei
from support.claims import Invalid, Rule

#: characters where the rules draw their lines: whitespace of every kind, controls, surrogates, the
#: email and number punctuation, digits, letters
EDGES = "\t\n\x0b\x0c\r\x1c\x1f \x85\xa0\u2003\u2028\u3000\ufeff\x00\x07\x7f\x9f\ud800\udfff@.+-()/*xX09aZé"
SAMPLES = st.text(alphabet=st.sampled_from(EDGES), max_size=24) | st.text(max_size=24)
EXAMPLES = hypothesis.settings(max_examples=150, deadline=None, derandomize=True, database=None)


_validators: dict[int, Draft202012Validator] = {}


def _schema_accepts(rule: Rule, value: str) -> bool:
    if id(rule) not in _validators:
        _validators[id(rule)] = Draft202012Validator(rule.schema, format_checker=FormatChecker())
    return _validators[id(rule)].is_valid(value)


def _check_accepts(rule: Rule, value: str, *, beyond_the_schema: set[str] = frozenset()) -> bool:
    """Whether ``check`` takes ``value``, counting as taken a refusal the schema cannot express."""
    try:
        rule.check(value)
    except Invalid as refusal:
        return refusal.code in beyond_the_schema
    return True


RULES = {
    "required text of 5": (claims.Text(5, required=True), set()),
    "optional text of 1": (claims.Text(1), set()),
    "multi-line text of 6": (claims.Text(6, required=True, multiline=True), set()),
    "email": (claims.EMAIL, set()),
    "account hint": (claims.HINT, set()),
    "imei": (claims._imei(required=True), {"imei_check_digit"}),
    "optional imei": (claims._imei(required=False), {"imei_check_digit"}),
    "consent": (claims.CONSENT, set()),
    "language": (claims.LANGUAGE, set()),
}


@pytest.mark.parametrize("name", RULES)
def test_the_schema_and_the_check_agree_on_every_string(name):
    rule, beyond = RULES[name]

    @EXAMPLES
    @hypothesis.given(value=SAMPLES | st.from_regex(rule.schema.get("pattern", "^$")))
    def agree(value):
        assert _schema_accepts(rule, value) == _check_accepts(rule, value, beyond_the_schema=beyond), repr(value)

    agree()


def test_the_purchase_date_schema_and_check_agree():
    """The schema cannot know today's date: a day in the future is the one refusal it leaves to the check."""
    dates = st.dates().map(str) | st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z") | SAMPLES

    @EXAMPLES
    @hypothesis.given(value=dates)
    def agree(value):
        assert _schema_accepts(claims.PURCHASE_DATE, value) == _check_accepts(
            claims.PURCHASE_DATE, value, beyond_the_schema={"in_future"}), repr(value)

    agree()


def test_whitespace_is_what_python_strips():
    everything = "".join(map(chr, range(0x110000)))
    spelt_out = set(re.findall(f"[{claims.WHITESPACE}]", everything))
    assert spelt_out == {char for char in everything if char.isspace()}
    assert {char for char in everything if char.isspace()} == set(re.findall(r"\s", everything))


@pytest.mark.parametrize("value, kept", [
    ("  Maria Rossi\t", "Maria Rossi"), (" " * 300 + "M" * 200 + "\n", "M" * 200)])
def test_length_is_counted_after_trimming(value, kept):
    assert claims.clean_text(value, 200, required=True) == kept
    assert _schema_accepts(claims.Text(200, required=True), value)


@pytest.mark.parametrize("value, code", [
    ("M" * 201, "too_long"), ("Ma\x00ria", "invalid"), ("Ma\ud800ria", "invalid"), ("Ma\tria", "invalid"),
    ("Ma\x1bria", "invalid"), ("\u2003 \t", "required")])
def test_text_refuses_control_characters_and_overlong_text(value, code):
    with pytest.raises(Invalid) as refused:
        claims.clean_text(value, 200, required=True)
    assert refused.value.code == code
    assert not _schema_accepts(claims.Text(200, required=True), value)


def test_a_multiline_text_keeps_line_breaks_and_tabs_inside():
    assert claims.clean_text(" one\n\ttwo\n", 20, required=True, multiline=True) == "one\n\ttwo"
    with pytest.raises(Invalid):
        claims.clean_text("one\r\x00two", 20, required=True, multiline=True)


def test_imei_separators_are_those_imei_parse_drops():
    value = imei.generate()
    spaced = "\u3000".join([value[:5], value[5:10], value[10:]]) + "\x1c"
    assert imei.parse(spaced) == value
    assert _schema_accepts(claims._imei(required=True), spaced)


def test_a_message_carries_nothing_but_its_body():
    """The schema says additionalProperties: false, so an extra key is refused, not ignored."""
    from support.api.claims import NewMessage, read
    from support.refusals import Refused

    assert NewMessage.model_json_schema()["additionalProperties"] is False
    with pytest.raises(Refused) as refusal:
        read(NewMessage, {"body": "Here is the receipt.", "status": "approved"})
    assert (refusal.value.code, refusal.value.field) == ("unknown_field", "status")
