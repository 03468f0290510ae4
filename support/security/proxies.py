"""The client's address behind reverse proxies.

With ``TRUSTED_PROXIES=n`` the last n ``X-Forwarded-For``/``-Proto``/``-Host`` entries are
believed (werkzeug's ProxyFix), so rate limits and the audit trail see the client, not the
proxy. With the default 0 those headers are ignored: anyone could send them.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
