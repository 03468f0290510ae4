"""The private code: grouped, without look-alikes, typed any way; older codes keep working."""
from __future__ import annotations

import hashlib
import math
import re
import secrets

from intake_samples import outbox

from support import cases, db, private_codes

LOOK_ALIKES = set("0O1IL")


def _file(recover, client) -> tuple[str, str]:
    assert recover().status_code == 303
    page = client.get("/recover/filed").text
    number = re.search(r'id="case-number">([^<]+)<', page).group(1)
    return number, re.search(r'id="case-token" class="token">([^<]+)<', page).group(1)


def _opens(client, number: str, typed: str) -> bool:
    client.post("/track/leave")
    response = client.post("/track", data={"number": number, "token": typed})
    return response.status_code == 303 and client.get("/track/case").status_code == 200


def test_codes_carry_at_least_the_old_entropy_and_no_look_alikes():
    assert LOOK_ALIKES.isdisjoint(private_codes.ALPHABET) and len(set(private_codes.ALPHABET)) == 30
    assert private_codes.LENGTH * math.log2(len(private_codes.ALPHABET)) >= 24 * 8  # token_urlsafe(24) was 192 bits
    codes = {private_codes.new_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(code) == 40 and set(code) <= set(private_codes.ALPHABET) for code in codes)


def test_the_code_is_shown_and_emailed_in_groups_and_opens_the_case_typed_any_way(app, client, recover):
    number, shown = _file(recover, client)
    assert re.fullmatch(r"([2-9A-HJKMNP-TV-Z]{4}-){9}[2-9A-HJKMNP-TV-Z]{4}", shown)
    [confirm] = outbox(app)
    body = confirm.get_body(("plain",)).get_content()
    assert f"Private code: {shown}" in body and f"t={shown.replace('-', '')}" in body
    for typed in (shown, shown.lower(), shown.replace("-", ""), shown.replace("-", " "), f"  {shown.lower().replace('-', ' - ')} "):
        assert _opens(client, number, typed), typed
    assert client.get(f"/track/{number}?t={shown}").status_code == 303  # a link with the dashes works too


def test_look_alikes_never_turn_a_wrong_code_into_a_right_one(client, recover):
    number, shown = _file(recover, client)
    canonical = shown.replace("-", "")
    # a code of this alphabet never has 0/O/1/I/L, so a typed look-alike is a wrong symbol
    for wrong in ("O" + canonical[1:], "I" + canonical[1:], canonical[:-1], canonical + "2", "", "-" * 49):
        assert not _opens(client, number, wrong), wrong
        assert client.post("/track", data={"number": number, "token": wrong}).status_code in (404, 422)


def test_another_persons_code_does_not_open_this_case(client, recover, claim_fields):
    first, _ = _file(recover, client)
    _, second_code = _file(recover, client)
    assert not _opens(client, first, second_code)
    assert client.get(f"/track/{first}?t={second_code}").status_code == 404


def test_codes_issued_before_the_new_alphabet_keep_working_exactly_as_given(app, client, make_case):
    case, _ = make_case()
    old = secrets.token_urlsafe(24)  # what file_case issued before: case-sensitive, with - and _
    with app.app_context(), db.transaction(app) as session:
        stored = cases.get_by_number(session, case.number)
        stored.token_hash = hashlib.sha256(old.encode()).hexdigest()
        session.add(stored)
    assert _opens(client, case.number, old) and _opens(client, case.number, f" {old} ")
    assert client.get(f"/track/{case.number}?t={old}").status_code == 303
    changed = old.swapcase() if old.swapcase() != old else old + "x"
    assert not _opens(client, case.number, changed)
    assert not _opens(client, case.number, private_codes.canonical(old))
    assert private_codes.grouped(old) == old  # an old code is shown as it was issued


def test_the_api_accepts_the_grouped_code_too(client, make_case):
    case, code = make_case()
    grouped = private_codes.grouped(code).lower()
    response = client.get(f"/api/v1/cases/{case.number}", headers={"Authorization": f"Bearer {grouped}"})
    assert response.status_code == 200, response.text
