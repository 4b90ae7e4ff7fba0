"""Fixtures in the style of Flask's tutorial: `app` and `client`, plus `agora`, the network edge."""

from __future__ import annotations

import base64

import pytest
import responses

from api import create_app
from api.settings import ENVIRONMENT_VARIABLES

# A live-mode project whose values exist nowhere but here.
LIVE = {
    "APP_ID": "0123456789abcdef0123456789abcdef",
    "APP_CERTIFICATE": "fedcba9876543210fedcba9876543210",
    "CUSTOMER_ID": "test-customer-id",
    "CUSTOMER_SECRET": "test-customer-secret",
    "AGORA_API_BASE_URL": "https://agora.test",
}
RTT_BASE = f"{LIVE['AGORA_API_BASE_URL']}/api/speech-to-text/v1/projects/{LIVE['APP_ID']}"
BASIC = "Basic " + base64.b64encode(b"test-customer-id:test-customer-secret").decode()


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch, tmp_path):
    """Tests choose their settings; a developer's exported APP_ID must not leak in.

    Each test's state lives in its own folder: the registry must start empty, and two test
    runs on one machine must not share the project's instance folder.
    """
    for name in ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STATE_DB", str(tmp_path / "state.sqlite3"))
    monkeypatch.setenv("SANDBOX_DB", str(tmp_path / "sandbox.sqlite3"))


@pytest.fixture
def app():
    return create_app({"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def agora():
    """Agora's API, mocked at the network edge; a registered call that never happens fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sandbox_app(tmp_path):
    return create_app({"TESTING": True, "AGORA_MODE": "sandbox", "SANDBOX_DB": str(tmp_path / "sandbox.sqlite3")})


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory):
    """A real S3-compatible server on localhost (moto), shared by the tests of the S3 path."""
    from tests.servers import start_moto

    server = start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()
