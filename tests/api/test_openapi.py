"""The served OpenAPI document describes exactly the routes the app serves."""

import re

import jsonschema_rs
import pytest

from api import create_app
from tests.conftest import LIVE


def test_every_api_route_is_documented_and_nothing_else(app):
    document = app.test_client().get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    served = {
        (re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method.lower())  # Flask's <x> is OpenAPI's {x}
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") or rule.rule == "/healthz"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert documented == served


def test_the_guides_paths_are_marked_deprecated(app):
    paths = app.test_client().get("/api/openapi.json").get_json()["paths"]
    assert paths["/api/transcription/start.json"]["post"]["deprecated"] is True
    assert "deprecated" not in paths["/api/rtt/start.json"]["post"]


def test_bearer_security_is_documented_only_when_keys_are_required(app):
    assert "security" not in app.test_client().get("/api/openapi.json").get_json()
    secured = create_app({**LIVE, "API_KEYS": "k1"}).test_client()
    document = secured.get("/api/openapi.json", headers={"Authorization": "Bearer k1"}).get_json()
    assert document["security"] == [{"bearerAuth": []}]
    assert "401" in document["paths"]["/api/tokens.json"]["post"]["responses"]


def test_request_schemas_use_the_validators_rules(app):
    schemas = app.test_client().get("/api/openapi.json").get_json()["components"]["schemas"]
    start = schemas["StartRequest"]["properties"]
    assert len(start["languages"]["items"]["enum"]) == 147
    assert (start["maxIdleTime"]["minimum"], start["maxIdleTime"]["maximum"]) == (5, 2592000)
    assert schemas["TokenRequest"]["required"] == ["channel", "uid"]


TOKEN_BODIES = [
    {},
    {"version": "007"},
    {"version": "006"},
    {"services": ["rtc", "rtm"]},
    {"services": ["rtm", "rtc"], "version": "007"},
    {"services": ["rtc", "rtm"], "version": "006"},
    {"services": ["rtc"], "version": "006"},
    {"services": ["rtm"]},
    {"services": []},
    {"services": ["rtc", "rtc"]},
    {"services": ["rtc", "rtm"], "rtmUserId": "alice"},
    {"services": ["rtc", "rtm"], "rtmUserId": ""},
    {"services": ["rtc", "rtm"], "rtmUserId": "a/b"},
    {"rtmUserId": "alice"},
    {"services": ["rtc"], "rtmUserId": "alice"},
    {"version": "008"},
]


@pytest.mark.parametrize("default_version", ["007", "006"])
@pytest.mark.parametrize("extra", TOKEN_BODIES)
def test_the_token_schema_accepts_exactly_what_the_endpoint_accepts(default_version, extra):
    client = create_app({**LIVE, "RATELIMIT_ENABLED": False, "TOKEN_VERSION": default_version}).test_client()
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]["TokenRequest"]
    body = {"channel": "demo", "uid": 42, **extra}
    documented_valid = jsonschema_rs.Draft202012Validator(schema).is_valid(body)
    assert (client.post("/api/tokens.json", json=body).status_code == 200) == documented_valid
