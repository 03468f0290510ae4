"""Flask extensions, created once and bound in ``create_app``."""
from __future__ import annotations

from flask import request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

LANGUAGES = {"en": "English", "ru": "Русский", "it": "Italiano"}

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()


def select_locale() -> str:
    """?lang= on this request (a one-off switch), then a signed-in agent's own language, then
    the language remembered from an earlier ?lang=, then Accept-Language, then English.

    An agent's language is a setting of their account (``Agent.language``), so a link with
    ?lang= changes one page without changing what the agent reads afterwards.
    """
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    agent_language = getattr(current_user, "language", None) if request else None
    if agent_language in LANGUAGES:
        return agent_language
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(LANGUAGES.keys()) or "en"
