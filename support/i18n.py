"""Template translations looked up once per request, not once per string.

Flask-Babel finds the catalogue anew for every ``_()``: the request's context, its locale,
the locale's name, a cache look-up, nine context-local reads in all. A queue page says
some fifty strings, and that search was a sixth of its time. Here the catalogue is kept
beside Flask-Babel's own request state, tied to the locale object it was found for, so
``force_locale`` (mail in the recipient's language) still switches it and switches back.
"""
from __future__ import annotations

from babel.support import Translations
from flask import Flask, g
from jinja2 import pass_eval_context
from markupsafe import Markup
from flask_babel import get_translations


def current_translations() -> Translations:
    """The catalogue of the request's locale (Flask-Babel's, as ``flask_babel.get_translations``)."""
    try:
        state = g._flask_babel  # Flask-Babel's request state, made by its first look-up
        locale, found = state.rd_translations
        if locale is state.babel_locale:
            return found
    except (AttributeError, RuntimeError):  # no look-up yet, or no application context
        pass
    found = get_translations()
    state = g.get("_flask_babel")
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.rd_translations = (state.babel_locale, found)
    return found


def _formatted(eval_ctx, found: str, variables: dict):
    """As Jinja's new-style gettext, escaped when autoescaping, but a string with no variables is
    taken as written (no ``%`` pass: a literal percent sign is written ``%%`` only beside a variable)."""
    found = Markup(found) if eval_ctx.autoescape else found
    return found % variables if variables else found


@pass_eval_context
def gettext(eval_ctx, string: str, **variables):
    return _formatted(eval_ctx, current_translations().ugettext(string), variables)


@pass_eval_context
def ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    return _formatted(eval_ctx, current_translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def pgettext(eval_ctx, context: str, string: str, **variables):
    return _formatted(eval_ctx, current_translations().upgettext(context, string), variables)


@pass_eval_context
def npgettext(eval_ctx, context: str, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    return _formatted(eval_ctx, current_translations().unpgettext(context, singular, plural, num), variables)


def init_app(app: Flask) -> None:
    """After ``babel.init_app`` (which turns on Jinja's new-style ``i18n``): the templates'
    ``_``, ``gettext`` … are these, called directly rather than through three wrappers."""
    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext, pgettext=pgettext,
                                 npgettext=npgettext)
