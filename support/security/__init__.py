"""What every request and response passes through: input the database cannot store is
refused at the door, responses carry the browser's security headers, and the client's
address is read through the configured number of trusted proxies."""
from __future__ import annotations

from flask import Flask

from . import characters, headers, proxies


def init_app(app: Flask) -> None:
    characters.init_app(app)
    headers.init_app(app)
    proxies.init_app(app)
