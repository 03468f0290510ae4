"""The web form and the API judge a claim by the same rules (support/claims.py)."""
from __future__ import annotations

import re

import pytest

from support import imei
from support.security.characters import LINE_BREAKS, has_control

#: one definition of an email address: (address as typed, accepted)
ADDRESSES = [
    ("maria@example.test", True),
    ("  Maria.Rossi+tag@Example.COM\t", True),
    ("m@sub.domain.it", True),
    ("мария@пример.рф", True),
    ("maria@example.test.", False),
    ("maria@example..test", False),
    ("maria@.example.test", False),
    ("maria@example", False),
    ("maria@@example.test", False),
    ("@example.test", False),
    ("maria rossi@example.test", False),
    ("maria@exa\u00a0mple.test", False),
    ("ma\x00ria@example.test", False),
    ("ma\x1bria@example.test", False),
    ("m" * 250 + "@e.it", False),
]

#: values refused the same way wherever they are typed: (field, value)
REFUSED_TEXT = [
    ("claimant_name", "Ma\x00ria"),
    ("claimant_name", "Maria\x1b[31m"),
    ("claimant_name", "Maria\nRossi"),
    ("claimant_name", " " * 10 + "M" * 201),
    ("shop", "Shop\x7f"),
    ("model", "X" * 121),
]


def _claim(**overrides) -> dict:
    return {"kind": "device_unbind", "claimant_name": "Maria Rossi", "contact_email": "maria@example.test",
            "imei1": imei.generate(), "language": "en", "consent": "true", **overrides}


def _stopped_at_the_door(overrides: dict) -> bool:
    """A control character other than a line break is refused before any view runs
    (support/security/characters.py), with a 400 instead of the form's 422."""
    return any(has_control(str(value), LINE_BREAKS) for value in overrides.values())


def _web_refuses(client, field: str, **overrides) -> bool:
    """Whether /recover marks ``field`` as refused (no files are sent, so the page always comes back)."""
    fields = _claim(**overrides) | {"hint_email": "old@example.test"}
    page = client.post("/recover", data=fields, content_type="multipart/form-data")
    if _stopped_at_the_door(overrides):
        assert page.status_code == 400
        return "control character" in page.text
    assert page.status_code == 422
    return bool(re.search(f'has-error">\\s*<label for="{field}"', page.text))


def _api_refuses(client, field: str, **overrides) -> bool:
    """Whether the API names ``field`` as the one at fault (without files, the first fault is theirs otherwise)."""
    response = client.post("/api/v1/cases", data=_claim(**overrides) | {"account_hint": "old@example.test"},
                           content_type="multipart/form-data")
    if _stopped_at_the_door(overrides):
        assert response.status_code == 400 and response.json["error"]["code"] == "control_character"
        return response.json["error"]["field"] == field
    assert response.status_code == 422
    return response.json["error"]["field"] == field


@pytest.mark.parametrize("address, accepted", ADDRESSES)
def test_an_email_address_is_accepted_or_refused_alike_by_the_web_and_the_api(client, address, accepted):
    assert _web_refuses(client, "contact_email", contact_email=address) is not accepted
    assert _api_refuses(client, "contact_email", contact_email=address) is not accepted


@pytest.mark.parametrize("field, value", REFUSED_TEXT)
def test_control_characters_and_overlong_text_are_refused_alike(client, field, value):
    assert _web_refuses(client, field, **{field: value})
    assert _api_refuses(client, field, **{field: value})


def test_the_web_form_keeps_what_was_typed_and_says_why_in_the_claimants_language(client):
    page = client.post("/recover?lang=ru", data=_claim(contact_email="maria@example", shop="  Corner  "),
                       content_type="multipart/form-data")
    assert page.status_code == 422
    assert 'value="maria@example"' in page.text and 'value="  Corner  "' in page.text
    assert "Пожалуйста, введите правильный адрес электронной почты." in page.text
    assert "Сообщите хотя бы что-то об аккаунте" in page.text
