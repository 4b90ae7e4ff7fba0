"""CORS, API keys and rate limits over real HTTP, under gunicorn as deployed."""

import concurrent.futures

import pytest
import requests

from tests.servers import start_gunicorn

pytestmark = pytest.mark.e2e

ALLOWED = "https://app.example.com"
KEY = {"Authorization": "Bearer ci-key"}


@pytest.fixture(scope="module")
def hardened(tmp_path_factory):
    # Behind one trusted proxy: each test speaks for its own client address, so budgets don't mix.
    env = {
        "CORS_ORIGINS": ALLOWED,
        "API_KEYS": "ci-key,other-key",
        "RATELIMIT_TOKENS": "5 per minute",
        "RATELIMIT_RTT": "3 per minute",
        "TRUSTED_PROXIES": "1",
    }
    # One worker: with memory storage each worker counts on its own.
    server = start_gunicorn(tmp_path_factory.mktemp("hardened"), env=env, workers=1)
    yield server
    assert server.stop() == 0


def preflight(server, origin):
    return requests.options(
        f"{server.url}/api/rtt/query.json",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=5,
    )


def test_preflight_from_an_allowed_origin(hardened):
    response = preflight(hardened, ALLOWED)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_a_disallowed_origin_gets_no_cors_headers(hardened):
    assert "Access-Control-Allow-Origin" not in preflight(hardened, "https://evil.example.com").headers
    answer = requests.post(
        f"{hardened.url}/api/rtt/query.json",
        json={"taskId": "X"},
        headers={**KEY, "Origin": "https://evil.example.com", "X-Forwarded-For": "198.51.100.1"},
        timeout=5,
    )
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_keys_are_required(hardened):
    missing = requests.post(
        f"{hardened.url}/api/rtt/query.json",
        json={"taskId": "X"},
        headers={"Origin": ALLOWED, "X-Forwarded-For": "198.51.100.2"},
        timeout=5,
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "unauthorized")
    assert missing.headers["Access-Control-Allow-Origin"] == ALLOWED  # the page can read why
    with_other_key = requests.post(
        f"{hardened.url}/api/rtt/query.json",
        json={"taskId": "X"},
        headers={"Authorization": "Bearer other-key", "X-Forwarded-For": "198.51.100.3"},
        timeout=5,
    )
    assert with_other_key.status_code == 404


def test_a_burst_past_the_token_limit_is_429_with_retry_after(hardened):
    def mint(_):
        return requests.post(
            f"{hardened.url}/api/tokens.json",
            json={"channel": "demo", "uid": 1},
            headers={**KEY, "X-Forwarded-For": "198.51.100.7"},
            timeout=5,
        )

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(mint, range(12)))
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200] * 5 + [429] * 7
    limited = next(answer for answer in answers if answer.status_code == 429)
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    other_client = requests.post(
        f"{hardened.url}/api/tokens.json",
        json={"channel": "demo", "uid": 1},
        headers={**KEY, "X-Forwarded-For": "198.51.100.8"},
        timeout=5,
    )
    assert other_client.status_code == 200


def test_an_oversized_body_is_413_json(hardened):
    response = requests.post(
        f"{hardened.url}/api/tokens.json",
        data="{" + " " * 20_000 + "}",
        timeout=5,
        headers={**KEY, "Content-Type": "application/json", "X-Forwarded-For": "198.51.100.9"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")
