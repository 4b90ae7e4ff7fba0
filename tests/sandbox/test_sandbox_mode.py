"""Sandbox mode: the same endpoints and make_request, with the emulator beneath the Session."""

import base64
import json
import time

import pytest

from api import create_app
from api.settings import SANDBOX_CREDENTIALS
from sandbox.captions import SPEAKERS
from sandbox.SttMessage_pb2 import Text
from tests.tokens import PUBLISHER_PRIVILEGES, assert_token


@pytest.fixture
def client(sandbox_app):
    return sandbox_app.test_client()


def start(client, **body):
    response = client.post("/api/rtt/start.json", json={"channel": "demo", **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_healthz_says_sandbox(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "mode": "sandbox", "rtt": "7.x"}


def test_tokens_are_signed_with_the_sandbox_project(client):
    data = client.post("/api/tokens.json", json={"channel": "demo", "uid": 5}).get_json()
    assert data["appId"] == SANDBOX_CREDENTIALS["APP_ID"]
    assert_token(
        data["token"],
        channel="demo",
        uid=5,
        privileges=PUBLISHER_PRIVILEGES,
        expires_at=data["expiresAt"],
        app_id=SANDBOX_CREDENTIALS["APP_ID"],
        cert=SANDBOX_CREDENTIALS["APP_CERTIFICATE"],
    )


def test_full_flow(client):
    task = start(client, languages=["en-US", "es-ES"])
    assert task["status"] == "STARTING"
    query = client.post("/api/rtt/query.json", json={"taskId": task["taskId"]}).get_json()
    assert query["status"] in ("STARTING", "RUNNING")
    stopped = client.post("/api/rtt/stop.json", json={"taskId": task["taskId"]})
    assert stopped.get_json() == {"taskId": task["taskId"], "status": "STOPPED", "channel": "demo"}
    again = client.post("/api/rtt/stop.json", json={"taskId": task["taskId"]})
    assert (again.status_code, again.get_json()["error"]["code"]) == (404, "task_not_found")
    assert client.post("/api/rtt/query.json", json={"taskId": task["taskId"]}).get_json()["status"] == "STOPPED"


def test_unknown_task(client):
    response = client.post("/api/rtt/query.json", json={"taskId": "NOPE"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "task_not_found")


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"op": "join", "status": 401}, 502, "agora_auth_failed"),
        ({"op": "join", "status": 400, "body": {"detail": "bad", "reason": "X"}}, 502, "agora_rejected"),
        ({"op": "join", "status": 409}, 409, "agora_conflict"),
        ({"op": "join", "status": 500}, 502, "agora_unavailable"),
        ({"op": "join", "malformed": True}, 502, "agora_unavailable"),
        ({"op": "join", "disconnect": True}, 502, "agora_unavailable"),
        ({"op": "join", "hang": True}, 504, "agora_timeout"),
    ],
)
def test_injected_faults_are_mapped(tmp_path, fault, status, code):
    app = create_app({"AGORA_MODE": "sandbox", "SANDBOX_DB": str(tmp_path / "s.sqlite3"), "AGORA_READ_TIMEOUT": 0.3})
    client = app.test_client()
    assert client.post("/sandbox/faults", json=fault).status_code == 201
    response = client.post("/api/rtt/start.json", json={"channel": "demo"})
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert start(client)["taskId"]  # the fault was used up


def test_rate_limit_fault_passes_retry_after_on(client):
    client.post("/sandbox/faults", json={"op": "join", "status": 429, "headers": {"Retry-After": "9"}})
    response = client.post("/api/rtt/start.json", json={"channel": "demo"})
    assert (response.status_code, response.headers["Retry-After"]) == (429, "9")


def test_a_delay_shorter_than_the_timeout_is_only_slow(client):
    client.post("/sandbox/faults", json={"op": "join", "delay": 0.3})
    began = time.monotonic()
    start(client)
    assert time.monotonic() - began >= 0.3


def test_bad_fault_is_a_json_400(client):
    response = client.post("/sandbox/faults", json={"op": "join"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "invalid_fault")


def read_events(response, until):
    """Parse Server-Sent Events from a streamed response until `until(events)` is true."""
    events, buffer = [], ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if "data" in fields:
                events.append(fields)
        if until(events):
            break
    return events


def test_caption_stream_carries_protobuf_from_the_pub_bot_until_stop(client):
    task = start(client)
    response = client.get(f"/sandbox/captions/{task['taskId']}", buffered=False)
    assert response.content_type.startswith("text/event-stream")

    def two_final_speakers(events):
        finals = {
            Text.FromString(base64.b64decode(json.loads(e["data"])["payload"])).uid
            for e in events
            if "id" in e and Text.FromString(base64.b64decode(json.loads(e["data"])["payload"])).words[0].is_final
        }
        return finals >= set(SPEAKERS)

    events = read_events(response, two_final_speakers)
    messages = [json.loads(e["data"]) for e in events]
    assert {m["uid"] for m in messages} == {task["pubBotUid"]}
    texts = [Text.FromString(base64.b64decode(m["payload"])) for m in messages]
    first = texts[0]
    assert (first.data_type, first.culture, first.uid) == ("transcribe", "en-US", SPEAKERS[0])
    assert not first.words[0].is_final
    final = next(t for t in texts if t.words[0].is_final)
    assert final.words[0].text.startswith(first.words[0].text)  # interim text grows into the final
    assert [int(e["id"]) for e in events] == list(range(len(events)))

    client.post("/api/rtt/stop.json", json={"taskId": task["taskId"]})
    rest = read_events(response, lambda evs: any(e.get("event") == "end" for e in evs))
    assert json.loads(rest[-1]["data"])["status"] == "STOPPED"
    response.close()


def test_caption_stream_resumes_after_the_last_event_id(client):
    task = start(client)
    response = client.get(f"/sandbox/captions/{task['taskId']}", headers={"Last-Event-ID": "3"}, buffered=False)
    events = read_events(response, lambda evs: len(evs) >= 1)
    assert events[0]["id"] == "4"
    response.close()


def test_caption_stream_of_an_unknown_task_is_404(client):
    response = client.get("/sandbox/captions/NOPE")
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "task_not_found")


def test_sandbox_routes_do_not_exist_in_live_mode(app):
    assert app.test_client().post("/sandbox/faults", json={"status": 500}).status_code == 404
