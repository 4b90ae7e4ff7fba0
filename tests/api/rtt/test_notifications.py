"""POST /api/rtt/notifications.json: Agora's signed events, written into the task registry.

Nothing is mocked: the test client posts the raw bytes Agora would, signed as Agora signs
them; the registry is the app's real SQLite store. Agora itself is never called.
"""

import concurrent.futures
import json
import threading
import time
import uuid

import pytest

from api import create_app
from state import Task
from tests.conftest import LIVE, RTT_BASE
from utils.ncs_signature import V1_HEADER, V2_HEADER, sign

SECRET = "ncs-test-secret-0123456789"
# Agora's example times, moved to now: the registry forgets what ended over a week ago.
START_TS = int(time.time()) - 20
STOP_TS = START_TS + 13
URL = "/api/rtt/notifications.json"


@pytest.fixture
def app():
    return create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "NCS_SECRET": SECRET, **LIVE})


def registry(app):
    return app.extensions["state"]


def running(app, task_id="AGENT1", channel="demo"):
    return registry(app).record_task(Task(task_id=task_id, channel=channel, status="STARTING", create_ts=1750235971))


def event(event_type, agent_id="AGENT1", notice_id=None, **payload):
    body = {
        "sid": agent_id,
        "noticeId": notice_id or uuid.uuid4().hex,
        "productId": 20,
        "eventType": event_type,
        "notifyMs": 1750235972193,
        "payload": {"agent_id": agent_id, "channel": "demo", "start_ts": START_TS, **payload},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def left(agent_id="AGENT1", status="STOPPED", message="Idle for too long", **extra):
    return event(102, agent_id, stop_ts=STOP_TS, status=status, message=message, **extra)


def deliver(client, raw, *, v2=True, v1=True, secret=SECRET, headers=None):
    sent = {"Content-Type": "application/json"}
    if v2:
        sent[V2_HEADER] = sign(raw, secret, V2_HEADER)
    if v1:
        sent[V1_HEADER] = sign(raw, secret, V1_HEADER)
    sent.update(headers or {})
    return client.post(URL, data=raw, headers=sent)


def test_a_102_ends_the_task_with_agoras_status_and_message_and_frees_the_channel(app, client):
    running(app)
    answer = deliver(client, left(message="Idle for too long"))
    assert answer.status_code == 200
    assert answer.get_json()["outcome"] == "accepted"
    task = registry(app).get_task("AGENT1")
    assert (task.status, task.end_reason, task.ended_ts) == ("STOPPED", "Idle for too long", float(STOP_TS))
    assert registry(app).task_for_channel("demo") is None


@pytest.mark.parametrize(
    ("status", "message"),
    [("FAILED", "RTC connection error"), ("FAILED", "Fatal ASR error"), ("FAILED", "Fatal Translation error")],
)
def test_a_failure_is_recorded_and_query_reports_it_without_calling_agora(app, client, agora, status, message):
    running(app)
    deliver(client, left(status=status, message=message))
    for body in ({"taskId": "AGENT1"}, {"channel": "demo"}):
        queried = client.post("/api/rtt/query.json", json=body)
        assert queried.get_json() == {
            "taskId": "AGENT1",
            "status": status,
            "createTs": 1750235971,
            "channel": "demo",
            "endedReason": message,
        }
    assert len(agora.calls) == 0


def test_a_101_marks_the_task_running(app, client):
    running(app)
    assert deliver(client, event(101)).get_json()["outcome"] == "accepted"
    assert registry(app).get_task("AGENT1").status == "RUNNING"


def test_a_101_arriving_after_the_102_does_not_bring_the_agent_back(app, client):
    running(app)
    deliver(client, left(message="Fatal ASR error", status="FAILED"))
    late = deliver(client, event(101))
    assert (late.status_code, late.get_json()["outcome"]) == (200, "stale")
    task = registry(app).get_task("AGENT1")
    assert (task.status, task.end_reason, task.ended) == ("FAILED", "Fatal ASR error", True)
    assert registry(app).task_for_channel("demo") is None


def test_a_second_102_does_not_change_how_the_task_ended(app, client):
    running(app)
    deliver(client, left(message="Idle for too long"))
    assert deliver(client, left(message="OK")).get_json()["outcome"] == "stale"
    assert registry(app).get_task("AGENT1").end_reason == "Idle for too long"


def test_a_duplicate_is_acknowledged_and_applied_once(app, client):
    running(app)
    notice = uuid.uuid4().hex
    first = deliver(client, event(101, notice_id=notice))
    # A resend carries another notifyMs, hence other bytes and signature, and the same noticeId.
    resent = event(101, notice_id=notice).replace(b"1750235972193", b"1750235979999")
    again = deliver(client, resent)
    assert (first.get_json()["outcome"], again.get_json()["outcome"]) == ("accepted", "duplicate")
    assert again.status_code == 200


def test_a_duplicate_102_after_a_new_start_does_not_end_the_new_task(app, client):
    running(app, "OLD")
    notice = uuid.uuid4().hex
    deliver(client, event(102, "OLD", notice_id=notice, status="STOPPED", message="OK"))
    running(app, "NEW")
    assert deliver(client, event(102, "OLD", notice_id=notice, status="STOPPED", message="OK")).status_code == 200
    assert registry(app).task_for_channel("demo").task_id == "NEW"


def test_duplicates_racing_on_many_threads_apply_once(app):
    running(app)
    raw = left(notice_id=uuid.uuid4().hex)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: deliver(app.test_client(), raw).get_json()["outcome"], range(16)))
    assert sorted(outcomes) == ["accepted"] + ["duplicate"] * 15


def test_an_unknown_agent_is_acknowledged_and_logged(client, caplog):
    answer = deliver(client, left("NOBODY"))
    assert (answer.status_code, answer.get_json()["outcome"]) == (200, "unknown_agent")
    assert "NOBODY" in caplog.text


def test_the_sid_names_the_agent_when_the_payload_does_not(app, client):
    running(app)
    raw = json.dumps({"sid": "AGENT1", "noticeId": "n-1", "eventType": 101, "payload": {}}).encode()
    assert deliver(client, raw).get_json()["outcome"] == "accepted"


@pytest.mark.parametrize("stop_ts", [STOP_TS, STOP_TS * 1000])
def test_stop_ts_in_seconds_or_milliseconds(app, client, stop_ts):
    running(app)
    deliver(client, event(102, stop_ts=stop_ts, status="STOPPED", message="OK"))
    assert registry(app).get_task("AGENT1").ended_ts == float(STOP_TS)


def test_other_events_and_products_are_acknowledged_and_ignored(app, client):
    running(app)
    other_event = event(110)
    other_product = json.dumps({"noticeId": "x", "productId": 3, "eventType": 102, "payload": {"agent_id": "AGENT1"}})
    assert deliver(client, other_event).get_json()["outcome"] == "ignored"
    assert deliver(client, other_product.encode()).get_json()["outcome"] == "ignored"
    assert not registry(app).get_task("AGENT1").ended


@pytest.mark.parametrize(
    ("headers", "signing"),
    [
        ({}, {"v2": False, "v1": False}),  # unsigned
        ({}, {"secret": "another-secret"}),  # forged
        ({V2_HEADER: "00" * 32}, {}),  # a wrong V2 beside a good V1
        ({V2_HEADER: "abc"}, {"v1": False}),
    ],
)
def test_missing_or_wrong_signatures_are_401_and_change_nothing(app, client, headers, signing):
    running(app)
    answer = deliver(client, left(), headers=headers, **signing)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "invalid_signature"
    assert not registry(app).get_task("AGENT1").ended


def test_the_wrong_algorithm_in_a_header_is_refused(app, client):
    running(app)
    raw = left()
    sha1_in_v2 = {V2_HEADER: sign(raw, SECRET, V1_HEADER)}
    assert client.post(URL, data=raw, headers=sha1_in_v2).status_code == 401
    sha256_in_v1 = {V1_HEADER: sign(raw, SECRET, V2_HEADER)}
    assert client.post(URL, data=raw, headers=sha256_in_v1).status_code == 401
    assert not registry(app).get_task("AGENT1").ended


def test_either_signature_alone_is_enough(app, client):
    running(app)
    assert deliver(client, event(101), v1=False).get_json()["outcome"] == "accepted"
    assert deliver(client, left(), v2=False).get_json()["outcome"] == "accepted"


def test_uppercase_hex_verifies(app, client):
    running(app)
    raw = left()
    answer = client.post(URL, data=raw, headers={V2_HEADER: sign(raw, SECRET).upper()})
    assert answer.get_json()["outcome"] == "accepted"


def test_a_body_re_serialized_by_a_proxy_is_refused(app, client):
    running(app)
    raw = left()
    signature = sign(raw, SECRET)
    reserialized = json.dumps(json.loads(raw), indent=1).encode()  # same object, other bytes
    assert client.post(URL, data=reserialized, headers={V2_HEADER: signature}).status_code == 401
    assert not registry(app).get_task("AGENT1").ended


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        (b'{"noticeId": "x", ', "invalid_json", None),
        (b"", "invalid_json", None),
        (b'["noticeId"]', "invalid_json", None),
        (b'"text"', "invalid_json", None),
        (b'{"eventType": 102}', "invalid_field", "noticeId"),
        (b'{"noticeId": "x", "eventType": "102"}', "invalid_field", "eventType"),
        (b'{"noticeId": "x", "eventType": 102, "payload": []}', "invalid_field", "payload"),
    ],
)
def test_a_signed_but_malformed_body_is_400_and_changes_nothing(app, client, raw, code, field):
    running(app)
    answer = deliver(client, raw)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert (error["code"], error.get("field")) == (code, field)
    assert not registry(app).get_task("AGENT1").ended


def test_no_api_key_is_needed_even_when_keys_are_set(tmp_path):
    app = create_app({"TESTING": True, "NCS_SECRET": SECRET, "API_KEYS": "k1", **LIVE})
    running(app)
    client = app.test_client()
    assert client.post("/api/rtt/query.json", json={"taskId": "AGENT1"}).status_code == 401  # the API needs it
    answer = deliver(client, left())
    assert (answer.status_code, answer.get_json()["outcome"]) == (200, "accepted")


def test_no_cors_headers_even_for_an_allowed_origin():
    app = create_app({"TESTING": True, "NCS_SECRET": SECRET, "CORS_ORIGINS": "https://app.example", **LIVE})
    answer = deliver(app.test_client(), left("NOBODY"), headers={"Origin": "https://app.example"})
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_404_json_when_no_secret_is_set(tmp_path):
    client = create_app({"TESTING": True, **LIVE}).test_client()
    answer = deliver(client, left())
    assert answer.status_code == 404
    assert answer.content_type == "application/json"
    assert answer.get_json()["error"]["code"] == "not_found"


def test_the_secret_never_reaches_an_answer_or_the_log(app, client, caplog):
    running(app)
    answers = [deliver(client, left()), deliver(client, left(), secret="forged"), deliver(client, b"{")]
    for answer in answers:
        assert SECRET not in answer.get_data(as_text=True)
    assert SECRET not in caplog.text


def test_no_rate_limit_applies_to_agoras_retries(agora):
    app = create_app({"TESTING": True, "NCS_SECRET": SECRET, "RATELIMIT_RTT": "1 per minute", **LIVE})
    client = app.test_client()
    agora.get(f"{RTT_BASE}/agents/X", json={"agent_id": "X", "create_ts": 1, "status": "RUNNING"})
    assert client.post("/api/rtt/query.json", json={"taskId": "X"}).status_code == 200
    assert client.post("/api/rtt/query.json", json={"taskId": "X"}).status_code == 429  # the API is limited
    answers = [deliver(client, left("NOBODY")).status_code for _ in range(5)]
    assert answers == [200] * 5


def test_each_notification_is_counted_by_event_and_outcome(app, client):
    from tests.api.test_metrics import rise, scrape

    running(app)
    before = scrape(client)
    notice = uuid.uuid4().hex
    deliver(client, left(notice_id=notice))
    deliver(client, left(notice_id=notice))
    deliver(client, event(101))  # after its 102: stale
    deliver(client, left(), secret="forged")
    deliver(client, b"[]")
    after = scrape(client)
    counted = {
        ("agent_left", "accepted"): 1,
        ("agent_left", "duplicate"): 1,
        ("agent_joined", "stale"): 1,
        ("unknown", "bad_signature"): 1,
        ("unknown", "invalid"): 1,
    }
    for (event_label, outcome), expected in counted.items():
        assert rise(before, after, "rtt_notifications_total", event=event_label, outcome=outcome) == expected
    assert rise(before, after, "rtt_tasks_ended_total", reason="idle") == 1  # the 102, counted once


def test_a_102_that_beats_the_join_answer_still_ends_the_task(app):
    """Agora may notify before its join answer reaches the start that records the task."""
    now = int(time.time())
    raw = event(102, "FAST", stop_ts=now, status="FAILED", message="Fatal ASR error").replace(
        str(START_TS).encode(), str(now).encode()
    )
    answers = []
    delivery = threading.Thread(target=lambda: answers.append(deliver(app.test_client(), raw).get_json()))
    delivery.start()
    time.sleep(0.3)  # the join is still under way: the notification has arrived first
    running(app, "FAST")
    delivery.join(timeout=10)
    assert answers[0]["outcome"] == "accepted"
    task = registry(app).get_task("FAST")
    assert (task.status, task.end_reason) == ("FAILED", "Fatal ASR error")
    assert registry(app).task_for_channel("demo") is None
