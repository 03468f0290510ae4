"""One error handler: the site's error page, or a JSON error body under /api/."""
from __future__ import annotations

from flask import Flask, current_app, flash, jsonify, make_response, redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

from . import db, web
from .refusals import Refused
from .web import local_target


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _message(error: HTTPException) -> str:
    messages = {
        400: _("The request could not be understood."),
        401: _("You need to sign in or show a valid token."),
        403: _("You do not have access to this page."),
        404: _("There is nothing here."),
        405: _("That method is not allowed here."),
        409: _("This changed while you were looking. Reload and try again."),
        413: _("The upload is too large."),
        415: _("This type of file is not accepted."),
        422: _("Some of what was sent is not valid."),
        429: _("Too many attempts. Please wait a little and try again."),
        500: _("Something went wrong on our side. Nothing was saved; please try again."),
    }
    return messages.get(error.code, error.name)


def handle_http_error(error: HTTPException):
    code = error.code or 500
    if _wants_json():
        body = {"error": {"code": getattr(error, "api_code", error.name.lower().replace(" ", "_")),
                          "message": getattr(error, "api_message", None) or _message(error),
                          "field": getattr(error, "field", None)}}
        response = jsonify(body)
        response.status_code = code
    else:
        response = make_response(render_template("errors/error.html", error=error, message=_message(error)), code)
    # what the exception says about itself (a 405's Allow, a 401's WWW-Authenticate), minus its own body type
    response.headers.extend((name, value) for name, value in error.get_headers() if name.lower() != "content-type")
    return response


def handle_refused(refusal: Refused):
    """A refusal nobody handled: roll back, then say why where the person came from.

    An API caller gets the JSON error body with the refusal's status. A page's form comes
    back to the page it was posted from (its ``next`` field, local paths only) with the
    message flashed; without one, the error page says it.
    """
    db.refuse()
    web.keep_refused_attempt(refusal)
    if _wants_json():
        response = jsonify({"error": {"code": refusal.code, "message": refusal.message, "field": refusal.field}})
        response.status_code = refusal.status
        return response
    back = local_target(request.form.get("next"))
    if request.method == "POST" and back:
        flash(refusal.message, "error")
        return redirect(back, code=303)
    error = HTTPException(refusal.message)
    error.code = refusal.status
    return make_response(render_template("errors/error.html", error=error, message=refusal.message), refusal.status)


def handle_unexpected(error: Exception):
    """Any uncaught exception: the request's session is rolled back before the page is drawn
    (a failed flush leaves it unusable, and the page reads the signed-in agent)."""
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    current_app.logger.exception("unhandled error")
    db.roll_back()
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Refused, handle_refused)
    if not app.debug:
        app.register_error_handler(Exception, handle_unexpected)
