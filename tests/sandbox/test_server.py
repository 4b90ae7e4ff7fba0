"""The emulator over real HTTP: what AGORA_API_BASE_URL can point at, and the benchmarks use."""

import threading

import pytest
import requests

from api import create_app
from api.settings import SANDBOX_CREDENTIALS
from sandbox.emulator import create_emulator
from sandbox.server import serve
from sandbox.store import SandboxStore


@pytest.fixture
def emulator_url(tmp_path):
    store = SandboxStore(str(tmp_path / "emulator.sqlite3"))
    credentials = {key.lower(): value for key, value in SANDBOX_CREDENTIALS.items()}
    server = serve(create_emulator(store, **credentials), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(emulator_url):
    app = create_app(
        {
            **SANDBOX_CREDENTIALS,
            "AGORA_API_BASE_URL": emulator_url,
            "AGORA_READ_TIMEOUT": 0.5,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app.test_client()
    app.extensions["agora_session"].close()


def fault(emulator_url, **spec):
    with requests.post(f"{emulator_url}/_sandbox/faults", json=spec, timeout=5) as response:
        assert response.status_code == 201


def stats(emulator_url):
    with requests.get(f"{emulator_url}/_sandbox/stats", timeout=5) as response:
        return response.json()


def test_live_mode_against_the_emulator_reuses_one_connection(client, emulator_url):
    before = stats(emulator_url)
    task = client.post("/api/rtt/start.json", json={"channel": "demo"}).get_json()
    for _ in range(5):
        assert client.post("/api/rtt/query.json", json={"taskId": task["taskId"]}).status_code == 200
    assert client.post("/api/rtt/stop.json", json={"taskId": task["taskId"]}).status_code == 200
    after = stats(emulator_url)
    assert after["requests"] - before["requests"] == 7
    assert after["connections"] - before["connections"] <= 2  # this stats call's, and the service's one


def test_a_hang_is_a_504(client, emulator_url):
    fault(emulator_url, op="join", hang=True)
    response = client.post("/api/rtt/start.json", json={"channel": "demo"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (504, "agora_timeout")


def test_a_dropped_connection_is_a_502(client, emulator_url):
    fault(emulator_url, op="join", disconnect=True)
    response = client.post("/api/rtt/start.json", json={"channel": "demo"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (502, "agora_unavailable")
    assert client.post("/api/rtt/start.json", json={"channel": "demo"}).status_code == 200


def test_a_query_survives_one_503_by_retrying(client, emulator_url):
    task = client.post("/api/rtt/start.json", json={"channel": "demo"}).get_json()
    fault(emulator_url, op="query", status=503)
    assert client.post("/api/rtt/query.json", json={"taskId": task["taskId"]}).status_code == 200


def test_wrong_credentials_are_an_auth_failure(emulator_url):
    app = create_app({**SANDBOX_CREDENTIALS, "CUSTOMER_SECRET": "wrong", "AGORA_API_BASE_URL": emulator_url})
    response = app.test_client().post("/api/rtt/start.json", json={"channel": "demo"})
    app.extensions["agora_session"].close()
    assert (response.status_code, response.get_json()["error"]["code"]) == (502, "agora_auth_failed")
