"""The whole flow with known secrets, in live mode against the emulator over HTTP: no secret
may appear in any response body or header, nor in any line gunicorn and the app log."""

import base64
import logging
import threading

import pytest
import requests

from sandbox.emulator import create_emulator
from sandbox.server import serve
from sandbox.store import SandboxStore
from tests.servers import start_gunicorn

pytestmark = pytest.mark.e2e

APP_ID = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
CERTIFICATE = "c3c7e7a1b2d4f6a8c0e2a4b6d8f0a2c4"
CUSTOMER_ID = "customer-7f3a"
CUSTOMER_SECRET = "s3cr3t-Zq8vW2xY"
API_KEY = "key-Hn4Rt7Lp0Qw"
SECRETS = {
    "certificate": CERTIFICATE,
    "customer secret": CUSTOMER_SECRET,
    "basic credential": base64.b64encode(f"{CUSTOMER_ID}:{CUSTOMER_SECRET}".encode()).decode(),
    "api key": API_KEY,
}


@pytest.fixture
def emulator(tmp_path):
    store = SandboxStore(str(tmp_path / "emulator.sqlite3"))
    app = create_emulator(
        store, app_id=APP_ID, app_certificate=CERTIFICATE, customer_id=CUSTOMER_ID, customer_secret=CUSTOMER_SECRET
    )
    server = serve(app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_no_secret_reaches_a_response_or_a_log(tmp_path, emulator):
    env = {
        "APP_ID": APP_ID,
        "APP_CERTIFICATE": CERTIFICATE,
        "CUSTOMER_ID": CUSTOMER_ID,
        "CUSTOMER_SECRET": CUSTOMER_SECRET,
        "AGORA_API_BASE_URL": emulator,
        "API_KEYS": API_KEY,
        "LOG_LEVEL": "DEBUG",
        "AGORA_READ_TIMEOUT": "1",
    }
    server = start_gunicorn(tmp_path, env=env, workers=2)
    seen = []

    def call(path, body, auth=f"Bearer {API_KEY}", method="POST"):
        headers = {"Authorization": auth} if auth else {}
        response = requests.request(method, f"{server.url}{path}", json=body, headers=headers, timeout=10)
        seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    def fault(**spec):
        requests.post(f"{emulator}/_sandbox/faults", json=spec, timeout=5).raise_for_status()

    try:
        assert call("/api/tokens.json", {"channel": "demo", "uid": 7}).status_code == 200
        task = call("/api/rtt/start.json", {"channel": "demo"}).json()
        assert call("/api/rtt/query.json", {"taskId": task["taskId"]}).status_code == 200
        assert call("/api/rtt/stop.json", {"taskId": task["taskId"]}).status_code == 200
        assert call("/api/rtt/stop.json", {"taskId": task["taskId"]}).status_code == 404
        assert call("/api/tokens.json", {"channel": "demo", "uid": 7}, auth=None).status_code == 401
        assert call("/api/tokens.json", {"channel": "demo", "uid": 7}, auth="Bearer wrong").status_code == 401
        assert call("/api/tokens.json", {"channel": "a/b", "uid": 7}).status_code == 400
        assert call("/api/openapi.json", None, method="GET").status_code == 200
        for spec, status in (
            ({"status": 401}, 502),
            ({"status": 400}, 502),
            ({"status": 500}, 502),
            ({"malformed": True}, 502),
            ({"hang": True}, 504),
            ({"disconnect": True}, 502),
        ):
            fault(op="join", **spec)
            assert call("/api/rtt/start.json", {"channel": "demo"}).status_code == status
    finally:
        assert server.stop() == 0
    log = server.log()
    assert "agora POST" in log and "request_id=" in log  # the log was captured, and is not empty
    for name, secret in SECRETS.items():
        assert all(secret not in answer for answer in seen), f"the {name} reached a response"
        assert secret not in log, f"the {name} reached the log"


def test_no_secret_in_debug_logs_of_the_http_client(caplog, emulator):
    """urllib3 and requests log at DEBUG too; what they write must not carry the credential."""
    from api import create_app

    caplog.set_level(logging.DEBUG)
    app = create_app(
        {
            "APP_ID": APP_ID,
            "APP_CERTIFICATE": CERTIFICATE,
            "CUSTOMER_ID": CUSTOMER_ID,
            "CUSTOMER_SECRET": CUSTOMER_SECRET,
            "AGORA_API_BASE_URL": emulator,
            "LOG_LEVEL": "DEBUG",
        }
    )
    client = app.test_client()
    task = client.post("/api/rtt/start.json", json={"channel": "demo"}).get_json()
    client.post("/api/rtt/stop.json", json={"taskId": task["taskId"]})
    app.extensions["agora_session"].close()
    assert "urllib3" in {record.name.split(".")[0] for record in caplog.records}
    for name, secret in SECRETS.items():
        assert secret not in caplog.text, f"the {name} reached the log"
