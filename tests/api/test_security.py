"""CORS allow-list, API keys, channel policy and rate limits."""

import pytest

from api import create_app
from tests.conftest import LIVE

ORIGIN = "https://app.example.com"


def make(**config):
    return create_app({"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, **config}).test_client()


def mint(client, **kwargs):
    return client.post("/api/tokens.json", json={"channel": "demo", "uid": 1}, **kwargs)


def test_no_cors_headers_without_an_allow_list():
    response = mint(make(), headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_an_allowed_origin_gets_cors_headers():
    client = make(CORS_ORIGINS=f"{ORIGIN}, https://other.example.com")
    response = mint(client, headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


def test_a_disallowed_origin_gets_none():
    response = mint(make(CORS_ORIGINS=ORIGIN), headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight_is_answered():
    client = make(CORS_ORIGINS=ORIGIN, API_KEYS="k1", RATELIMIT_ENABLED=True, RATELIMIT_TOKENS="1 per minute")
    for _ in range(3):  # neither keys nor rate limits apply to a preflight
        response = client.options(
            "/api/tokens.json",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, authorization",
            },
        )
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
        assert response.headers["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer wrong", "Basic k1", "bearer k1x", "Bearer k"],
)
def test_api_keys_are_required_when_set(authorization):
    client = make(API_KEYS="k1,k2")
    headers = {"Authorization": authorization} if authorization else {}
    response = mint(client, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post("/api/rtt/start.json", json={"channel": "demo"}, headers=headers).status_code == 401
    assert client.get("/api/openapi.json", headers=headers).status_code == 401


@pytest.mark.parametrize("key", ["k1", "k2"])
def test_any_listed_key_works(key):
    assert mint(make(API_KEYS="k1,k2"), headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_keys_do_not_guard_health_or_the_page():
    client = make(API_KEYS="k1")
    assert client.get("/healthz").status_code == 200


def test_channel_pattern_restricts_channels():
    client = make(CHANNEL_PATTERN=r"class-[0-9]+")
    assert client.post("/api/tokens.json", json={"channel": "class-12", "uid": 1}).status_code == 200
    refused = client.post("/api/tokens.json", json={"channel": "class-12x", "uid": 1})
    assert refused.status_code == 403
    assert refused.get_json()["error"] == {
        "code": "channel_forbidden",
        "message": "channel is not one this service may be used for (it does not match CHANNEL_PATTERN)",
        "field": "channel",
    }
    assert client.post("/api/rtt/start.json", json={"channel": "lobby"}).status_code == 403


def test_rate_limits_are_separate_for_tokens_and_rtt(agora):
    client = make(RATELIMIT_ENABLED=True, RATELIMIT_TOKENS="2 per minute", RATELIMIT_RTT="1 per minute")
    assert [mint(client).status_code for _ in range(3)] == [200, 200, 429]
    limited = mint(client)
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # RTT calls have their own budget, shared by start, query and stop
    agora.get(
        "https://agora.test/api/speech-to-text/v1/projects/0123456789abcdef0123456789abcdef/agents/A1",
        json={"status": "RUNNING"},
    )
    assert client.post("/api/rtt/query.json", json={"taskId": "A1"}).status_code == 200
    assert client.post("/api/rtt/stop.json", json={"taskId": "A1"}).status_code == 429


def test_rate_limits_count_per_client_address():
    client = make(RATELIMIT_ENABLED=True, RATELIMIT_TOKENS="1 per minute")
    assert mint(client, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200
    assert mint(client, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200
    assert mint(client, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts():
    client = make(RATELIMIT_ENABLED=True, RATELIMIT_TOKENS="1 per minute", TRUSTED_PROXIES=1)
    assert mint(client, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200
    assert mint(client, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 200
    assert mint(client, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
