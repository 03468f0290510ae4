"""Abuse limits against the real Redis on 127.0.0.1:6379 (database 14), and CSRF exemption."""
from __future__ import annotations

import pytest
import redis

from .factories import bearer, conforms

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_limits(app_config):
    """Rate limits on, stored in a flushed Redis database of our own."""
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    store.flushdb()
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL,
                      API_LIMIT_TOKEN_FAILURES_PER_CASE="3 per hour", API_LIMIT_CREATE_PER_EMAIL="2 per day")
    yield store
    store.flushdb()
    store.close()


def test_failed_token_checks_are_limited_per_case_in_redis(redis_limits, client, filed):
    number, token = filed
    for _attempt in range(3):
        assert client.get(f"/api/v1/cases/{number}", headers=bearer("guess")).status_code == 404
    blocked = client.get(f"/api/v1/cases/{number}", headers=bearer("guess"))
    assert blocked.status_code == 429
    conforms(blocked, "/api/v1/cases/{number}", "get")
    assert blocked.json["error"]["code"] == "too_many_requests"
    assert int(blocked.headers["Retry-After"]) > 0
    assert any(b"api-token-case" in key for key in redis_limits.keys()), "the counters live in Redis"
    # the limit is per case: another case number is still answered
    assert client.get("/api/v1/cases/RD-2000-000001", headers=bearer("guess")).status_code == 404


def test_successful_token_checks_are_not_counted(redis_limits, client, filed):
    number, token = filed
    for _attempt in range(5):
        assert client.get(f"/api/v1/cases/{number}", headers=bearer(token)).status_code == 200


def test_filings_are_limited_per_contact_email(redis_limits, file_case):
    for _attempt in range(2):
        assert file_case(consent=None, contact_email="Same@Example.test").status_code == 422
    blocked = file_case(consent=None, contact_email="same@example.test ")
    assert blocked.status_code == 429
    conforms(blocked, "/api/v1/cases", "post")
    assert file_case(contact_email="other@example.test").status_code == 201


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_the_api_needs_no_csrf_token_while_the_site_does(csrf_on, client, filed):
    number, token = filed
    assert client.post("/agent/sign-in", data={"email": "a@example.test", "password": "x"}).status_code == 400
    response = client.post(f"/api/v1/cases/{number}/messages", headers=bearer(token), json={"body": "hello"})
    assert response.status_code == 201
