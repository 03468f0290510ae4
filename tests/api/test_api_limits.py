"""Abuse limits against the real Redis (RATELIMIT_TEST_REDIS_URL, database 14 by default), and CSRF exemption."""
from __future__ import annotations

import os
import uuid

import pytest
import redis

from .factories import bearer, conforms

REDIS_URL = os.environ.get("RATELIMIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


class PrefixedStore:
    """The test's own counters in the shared Redis database: keys under one prefix.

    Tests running in parallel share the database, so none may flush it.
    """

    def __init__(self, store: redis.Redis, prefix: str):
        self.store, self.prefix = store, prefix

    def keys(self) -> list[bytes]:
        return list(self.store.scan_iter(match=f"{self.prefix}:*"))

    def clear(self) -> None:
        for key in self.keys():
            self.store.delete(key)


@pytest.fixture
def redis_limits(app_config):
    """Rate limits on, stored in Redis under a key prefix of this test's own."""
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    counters = PrefixedStore(store, f"rd-test-{uuid.uuid4().hex[:10]}")
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL,
                      RATELIMIT_STORAGE_OPTIONS={"key_prefix": counters.prefix},
                      API_LIMIT_TOKEN_FAILURES_PER_CASE="3 per hour", API_LIMIT_CREATE_PER_EMAIL="2 per day")
    yield counters
    counters.clear()
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


def test_the_right_token_works_after_thirty_wrong_guesses_from_other_addresses(redis_limits, client, filed):
    number, token = filed
    answers = {client.get(f"/api/v1/cases/{number}", headers=bearer(f"guess-{n}"),
                          environ_base={"REMOTE_ADDR": f"10.0.2.{n}"}).status_code for n in range(30)}
    assert answers == {404, 429}
    assert client.get(f"/api/v1/cases/{number}", headers=bearer(token)).status_code == 200
    reply = client.post(f"/api/v1/cases/{number}/messages", headers=bearer(token), json={"body": "still me"})
    assert reply.status_code == 201


def test_wrong_guesses_do_not_spend_the_cases_upload_allowance(redis_limits, app, client, filed):
    app.config["API_LIMIT_UPLOADS_PER_CASE"] = "2 per hour"
    number, token = filed
    for n in range(3):
        client.post(f"/api/v1/cases/{number}/messages", headers=bearer("guess"), json={"body": "x"},
                    environ_base={"REMOTE_ADDR": f"10.0.3.{n}"})
    for _attempt in range(2):
        assert client.post(f"/api/v1/cases/{number}/messages", headers=bearer(token),
                           json={"body": "mine"}).status_code == 201
    assert client.post(f"/api/v1/cases/{number}/messages", headers=bearer(token),
                       json={"body": "mine"}).status_code == 429


def test_refused_filings_do_not_count_toward_the_per_email_limit(redis_limits, file_case):
    for _attempt in range(5):
        assert file_case(consent=None, contact_email="Same@Example.test").status_code == 422
    for _attempt in range(2):
        assert file_case(contact_email="same@example.test ").status_code == 201
    blocked = file_case(contact_email="SAME@example.test")
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
