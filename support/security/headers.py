"""The browser's defences, on every response.

Pages load scripts, styles and fonts only from this site (the templates have no inline
script or style), are never framed, and nothing but static files is kept in a cache: agent
pages, evidence, a claimant's case and the account pages all carry personal data.
"""
from __future__ import annotations

from flask import Flask, Response, request

#: pictures may also be data: (the TOTP QR code) and blob: (previews of chosen files)
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=63072000; includeSubDomains"
#: the development server's own Server header would name Werkzeug's and Python's versions
SERVER_NAME = "Recovery Desk"


def secure(response: Response, *, production: bool) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)  # evidence sets a stricter one
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: Flask-WTF checks the Referer of every POST over HTTPS
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if production:
        headers["Strict-Transport-Security"] = HSTS
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def _quiet_development_server() -> None:
    """http.server writes ``Server: Werkzeug/x Python/y`` itself, after the app's headers."""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.version_string = lambda self: SERVER_NAME


def init_app(app: Flask) -> None:
    production = app.config["RD_ENV"] == "production"
    app.after_request(lambda response: secure(response, production=production))
    _quiet_development_server()
