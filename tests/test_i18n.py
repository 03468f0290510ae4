"""Templates translate through the request's kept catalogue (support/i18n.py): the request's
language, a forced language for mail and back, escaping, variables and plurals as Jinja's own."""
from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale


def test_templates_follow_the_request_language_and_a_forced_one_then_switch_back(app):
    page = "{{ _('Open') }}|{{ gettext('Open') }}"
    with app.test_request_context("/?lang=ru"):
        assert render_template_string(page) == "Открытые|Открытые"
        with force_locale("it"):
            assert render_template_string(page) == "Aperte|Aperte"
        assert render_template_string(page) == "Открытые|Открытые"
    with app.test_request_context("/"):  # a new request starts from its own language
        assert render_template_string(page) == "Open|Open"


def test_variables_are_escaped_percent_signs_and_plurals_as_jinja_writes_them(app):
    with app.test_request_context("/?lang=ru"):
        assert render_template_string("{{ _('Delete the view %(name)s', name='<b>') }}") == "Удалить вид «&lt;b&gt;»"
        assert render_template_string("{{ _('confidence %(percent)s%%', percent=97) }}") == "уверенность 97%"
        left = ("{{ ngettext('%(num)d attempt left before the account is locked.', "
                "'%(num)d attempts left before the account is locked.', n) }}")
        assert render_template_string(left, n=3) == "Осталось попыток до блокировки аккаунта: 3."
    with app.test_request_context("/"):
        assert render_template_string(left, n=1) == "1 attempt left before the account is locked."
        assert render_template_string(left, n=2) == "2 attempts left before the account is locked."
