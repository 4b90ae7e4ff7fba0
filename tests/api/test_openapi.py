"""The served OpenAPI document describes exactly the routes the app serves."""

from api import create_app
from tests.conftest import LIVE


def test_every_api_route_is_documented_and_nothing_else(app):
    document = app.test_client().get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    served = {
        (rule.rule, method.lower())
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
