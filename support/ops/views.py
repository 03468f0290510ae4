"""``/healthz``, ``/readyz`` and ``/metrics``: what load balancers and Prometheus ask."""
from __future__ import annotations

import ipaddress

from flask import Blueprint, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from . import metrics, readiness

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def health():
    """The process is alive (no dependency asked: a database outage must not get every
    server restarted). Also the benchmarks' baseline."""
    return {"status": "ok"}


@bp.get("/readyz")
def ready():
    """Ready to serve: database, storage and job queue answer; 503 naming what failed."""
    checks = readiness.check(current_app._get_current_object())
    ok = all(outcome == "ok" for outcome in checks.values())
    return {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503


def from_allowed_network(address: str | None, networks) -> bool:
    """Whether the client's address (after the trusted proxies, TRUSTED_PROXIES) is in one of
    ``networks``; an IPv4 client seen through an IPv6 socket counts as IPv4."""
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if client.version == 6 and client.ipv4_mapped:
        client = client.ipv4_mapped
    return any(client in network for network in networks)


@bp.get("/metrics")
def exposition():
    """Prometheus text format, only for METRICS_ALLOWED_NETWORKS (403 for anyone else)."""
    if not from_allowed_network(request.remote_addr, current_app.config["METRICS_ALLOWED_NETWORKS"]):
        abort(403)
    return metrics.exposition(current_app._get_current_object()), 200, {"Content-Type": CONTENT_TYPE_LATEST}
