"""Every audit action the app records reads as a sentence, in the reader's language, naming
who wrote to whom; the stored reasons the system wrote are translated."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask_babel import force_locale

from support.models import AuditEvent, MessageVisibility
from support.sentences import PREFIXES, SENTENCES, describe, reason_text

SOURCE = Path(__file__).resolve().parent.parent / "support"
PREFIXES_OF_ACTIONS = ("account", "action", "agent", "canned_reply", "case", "demo", "desk", "device", "evidence",
                       "job", "message", "report", "refused")
#: an action name written as a string literal anywhere: action="case.filed", _record(..., "agent.signed_in")
LITERAL = re.compile(r"""["']((?:%s)\.[a-z_]+)["']""" % "|".join(PREFIXES_OF_ACTIONS))
#: an action built in an f-string: action=f"message.{visibility.value}"
BUILT = re.compile(r"""action=f["']([a-z_]+\.)\{""")
#: what the f-strings expand to (checked below: a new f-string prefix must be added here)
EXPANDED = {
    "action.": {"requested", "approved", "held", "executed", "cancelled"},
    "message.": {visibility.value for visibility in MessageVisibility},
    "case.": {"approved", "rejected"},
}


def _recorded(app) -> tuple[set[str], set[str]]:
    endpoints = set(app.view_functions)
    literals, built = set(), set()
    for path in SOURCE.rglob("*.py"):
        if path.name == "models.py":  # foreign keys ("case.id") and examples in comments, no event
            continue
        text = path.read_text(encoding="utf-8")
        literals |= {name for name in LITERAL.findall(text)
                     if name not in endpoints and name.rsplit(".", 1)[1] not in ("html", "txt", "py", "json", "css", "id")}
        built |= set(BUILT.findall(text))
    return literals, built


def test_every_recorded_action_has_a_sentence(app):
    literals, built = _recorded(app)
    assert {"case.filed", "agent.sign_in_failed", "device.flag_cleared", "evidence.added"} <= literals  # the scan works
    unknown_prefixes = {prefix for prefix in built if prefix not in EXPANDED and prefix not in PREFIXES}
    assert not unknown_prefixes, f"actions built in f-strings with no sentence rule: {unknown_prefixes}"
    names = literals | {prefix + verb for prefix, verbs in EXPANDED.items() for verb in verbs}
    missing = sorted(name for name in names if name not in SENTENCES
                     and not any(name.startswith(prefix) for prefix in PREFIXES))
    assert not missing, f"recorded actions without a sentence in support/sentences.py: {missing}"


def _event(action: str, actor_type: str = "agent", actor_name: str | None = "Anna Verdi", **fields) -> AuditEvent:
    return AuditEvent(seq=1, at=datetime.now(timezone.utc), actor_type=actor_type, actor_id="7",
                      actor_name=actor_name, action=action, canonical="{}", prev_hash="0" * 64, hash="1" * 64,
                      **fields)


def test_the_message_sentence_names_who_wrote_to_whom(app):
    with app.test_request_context():
        assert describe(_event("message.public")) == "Anna Verdi wrote to the claimant."
        assert describe(_event("message.public", "claimant", "Lucia Bianchi")) == "The claimant wrote to the desk."
        assert describe(_event("message.internal")) == "Anna Verdi added an internal note."
        asked = _event("message.public", after={"length": 9, "requested": {"receipt": "blurred"}})
        assert describe(asked) == "Anna Verdi wrote to the claimant and asked for more evidence."
        with force_locale("ru"):
            assert describe(_event("message.public", "claimant", "Lucia")) == "Заявитель написал в поддержку."
            assert describe(_event("message.public")) == "Anna Verdi: написано заявителю."
        with force_locale("it"):
            assert describe(_event("message.internal")) == "Anna Verdi ha aggiunto una nota interna."


def test_codes_become_titles_and_system_reasons_are_translated(app):
    moved = _event("case.transition", before={"status": "new"}, after={"status": "in_review"}, reason="claimed")
    requested = _event("action.requested", after={"kind": "force_unbind", "status": "pending_approval"})
    with app.test_request_context():
        with force_locale("ru"):
            assert describe(moved) == ("Anna Verdi: статус обращения изменён с «Новое» на «На рассмотрении». "
                                       "Причина: сотрудник взял обращение в работу")
            assert describe(requested) == "Anna Verdi: запрошено действие «Принудительно отвязать устройство»."
            assert reason_text("The claimant added 3 file(s).") == "Заявитель добавил 3 файла."
        with force_locale("it"):
            assert "«Nuova» a «In revisione»" in describe(moved)
            flag = 'The account owner objected to the force-unbind ("this was not me").'
            assert reason_text(flag) == ("Il titolare dell'account si è opposto all'azione "
                                         "«Scollega forzatamente il dispositivo» («non sono stato io»).")


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "claimed\nforged line", "%(who)s %s {0}"])
def test_a_typed_reason_and_an_unknown_action_are_shown_as_they_are(app, hostile):
    """No format string, code path or markup comes from the stored event; templates escape it."""
    with app.test_request_context(), force_locale("ru"):
        assert describe(_event("case.flag_cleared", reason=hostile)).endswith(hostile)
        assert describe(_event("something.new", "claimant")) == "Заявитель: something.new"
        assert describe(_event("case.transition", after={"status": hostile})).count(hostile) == 1
