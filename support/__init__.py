"""Recovery Desk: a support desk for device-maker account recovery."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from . import (backup, cli, db, errors, i18n, jobs, labels, lock_order, mail, navigation, ops, personal_data, security,
               sentences, witness)
from .account.views import bp as account_bp
from .admin.views import bp as admin_bp
from .api.views import bp as api_bp
from .approvals.views import bp as approvals_bp
from .auditlog.views import bp as auditlog_bp
from .auth.views import bp as auth_bp
from .home import bp as home_bp
from .intake.views import bp as intake_bp
from .privacy.views import bp as privacy_bp
from .reports.views import bp as reports_bp
from .review.views import bp as review_bp
from .config import PER_PROCESS_LIMITS, ROOT, finalise, from_environment, require_secret, require_shared_limits
from .extensions import babel, csrf, limiter, login_manager, select_locale


def create_app(test_config: dict | None = None) -> Flask:
    """The application: configuration, extensions, blueprints, error pages, CLI."""
    app = Flask(
        __name__,
        instance_path=(test_config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
    )
    app.config.update(from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    finalise(app.config, app.instance_path)
    _check_secret_when_serving(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    ops.init_app(app)  # before db: its after_request then times the commit too
    db.init_app(app)
    lock_order.init_app(app)
    witness.init_app(app)
    personal_data.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=_translation_dirs())
    i18n.init_app(app)
    _register_blueprints(app)
    errors.init_app(app)
    security.init_app(app)
    navigation.init_app(app)
    labels.init_app(app)
    sentences.init_app(app)
    cli.init_app(app)
    backup.init_app(app)
    mail.init_app(app)
    jobs.init_app(app)
    return app


def _check_secret_when_serving(app: Flask) -> None:
    """Now, when a server imports the app; at the first request under the ``flask`` command,
    whose help and admin commands need no secret."""
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
        app.before_request(lambda: _require_serving_settings(app.config))
        return
    _require_serving_settings(app.config)
    if app.config["RD_ENV"] == "production" and app.config["RATELIMIT_STORAGE_URI"] == PER_PROCESS_LIMITS:
        app.logger.warning("RATELIMIT_STORAGE_URI=memory:// counts rate limits in this process only: with several "
                           "worker processes or servers every limit is multiplied by their number. Use redis://.")


def _require_serving_settings(config: dict) -> None:
    require_secret(config)
    require_shared_limits(config)


def _translation_dirs() -> str:
    """Each feature keeps its own catalog; Flask-Babel merges them."""
    return ";".join(str(path) for path in sorted(Path(__file__).parent.glob("**/translations")))


BLUEPRINTS = (home_bp, auth_bp, account_bp, intake_bp, api_bp, review_bp, approvals_bp, auditlog_bp, reports_bp,
              admin_bp, privacy_bp)


def _register_blueprints(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
