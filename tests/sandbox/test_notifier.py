"""The sandbox posts Agora's signed NCS events for its agents: joins, leaves, idle timeouts, failures.

The emulator is driven through its test client on a fake clock; the service it posts to is
the network edge, mocked with `responses`, which records every body and header it was sent.
"""

import json

import pytest
import responses

from sandbox.emulator import create_emulator
from sandbox.notifier import RETRY_DELAYS, Notifier
from sandbox.store import STARTUP_SECONDS, SandboxStore
from tests.sandbox.test_emulator import APP_ID, AUTH, BASE, CERT, join, join_body
from utils.ncs_signature import V1_HEADER, V2_HEADER, verify

SECRET = "sandbox-test-ncs-secret"
URL = "https://service.test/api/rtt/notifications.json"


def emulator(store, **options):
    notifier = Notifier(store, SECRET, lambda: URL, **options)
    app = create_emulator(
        store, app_id=APP_ID, app_certificate=CERT, customer_id="cid", customer_secret="csecret", notifier=notifier
    )
    return app.test_client(), notifier


@pytest.fixture
def service():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(URL, json={"received": True})
        yield mock


def delivered(service):
    """Each POST as (event, its JSON), after checking both signatures over the bytes sent."""
    events = []
    for call in service.calls:
        raw = call.request.body
        headers = call.request.headers
        assert verify(raw, SECRET, v2=headers[V2_HEADER], v1=None) == V2_HEADER
        assert verify(raw, SECRET, v2=None, v1=headers[V1_HEADER]) == V1_HEADER
        events.append(json.loads(raw))
    return events


def tick(notifier, clock, seconds=0.0):
    clock.advance(seconds)
    notifier.note_ends(clock())
    notifier.deliver_due(clock())


def test_a_join_then_a_leave_post_101_then_102_ok(store, clock, service):
    agora, notifier = emulator(store)
    agent_id = join(agora).get_json()["agent_id"]
    tick(notifier, clock)
    assert delivered(service) == []  # the bot is not in the channel yet
    tick(notifier, clock, STARTUP_SECONDS)
    assert agora.post(f"{BASE}/agents/{agent_id}/leave", headers=AUTH).status_code == 200
    tick(notifier, clock)
    joined, left = delivered(service)
    created = int(store.get_agent(APP_ID, agent_id).create_ts)
    assert {key: joined[key] for key in ("sid", "productId", "eventType")} == {
        "sid": agent_id,
        "productId": 20,
        "eventType": 101,
    }
    assert joined["payload"] == {"agent_id": agent_id, "channel": "demo", "start_ts": created}
    assert left["eventType"] == 102
    assert left["payload"] == {
        "agent_id": agent_id,
        "channel": "demo",
        "message": "OK",
        "start_ts": created,
        "status": "STOPPED",
        "stop_ts": int(clock()),
    }
    assert joined["noticeId"] != left["noticeId"]
    tick(notifier, clock, 60)
    assert len(service.calls) == 2  # each once


def test_an_idle_timeout_is_noticed_without_any_query(store, clock, service):
    agora, notifier = emulator(store)
    agent_id = join(agora).get_json()["agent_id"]
    created = store.get_agent(APP_ID, agent_id).create_ts
    tick(notifier, clock, 29)
    assert [event["eventType"] for event in delivered(service)] == [101]
    tick(notifier, clock, 2)  # past maxIdleTime (30 s)
    left = delivered(service)[-1]
    assert (left["eventType"], left["payload"]["status"], left["payload"]["message"]) == (
        102,
        "STOPPED",
        "Idle for too long",
    )
    assert left["payload"]["stop_ts"] == int(created + 30)


@pytest.mark.parametrize(
    ("message", "status"),
    [("Fatal ASR error", "FAILED"), ("RTC connection error", "FAILED"), ("Idle for too long", "STOPPED")],
)
def test_an_injected_failure_ends_the_agent_with_its_message(store, clock, service, message, status):
    agora, notifier = emulator(store)
    assert agora.post("/_sandbox/faults", json={"op": "join", "fail": message, "after": 5}).status_code == 201
    agent_id = join(agora).get_json()["agent_id"]
    tick(notifier, clock, 4)
    assert agora.get(f"{BASE}/agents/{agent_id}", headers=AUTH).get_json()["status"] == "RUNNING"
    tick(notifier, clock, 1)
    queried = agora.get(f"{BASE}/agents/{agent_id}", headers=AUTH).get_json()
    assert (queried["status"], queried["message"]) == (status, message)
    left = delivered(service)[-1]
    assert (left["payload"]["status"], left["payload"]["message"]) == (status, message)
    assert join(agora, join_body(name="next")).status_code == 200  # the fault was used up


def test_a_fail_fault_is_for_joins_only(store):
    agora, _ = emulator(store)
    assert agora.post("/_sandbox/faults", json={"op": "query", "fail": "Fatal ASR error"}).status_code == 400
    assert agora.post("/_sandbox/faults", json={"op": "join", "fail": ""}).status_code == 400


def test_duplicates_repeat_the_notice_id_with_another_notify_ms(store, clock, service):
    agora, notifier = emulator(store, duplicates=True)
    join(agora)
    tick(notifier, clock, STARTUP_SECONDS)
    first, resent = delivered(service)
    assert first["noticeId"] == resent["noticeId"]
    assert resent["notifyMs"] > first["notifyMs"]
    assert service.calls[0].request.body != service.calls[1].request.body


def test_reordering_delivers_the_101_after_the_102(store, clock, service):
    agora, notifier = emulator(store, reorder=True)
    agent_id = join(agora).get_json()["agent_id"]
    tick(notifier, clock, 10)
    assert delivered(service) == []  # the 101 is held
    agora.post(f"{BASE}/agents/{agent_id}/leave", headers=AUTH)
    tick(notifier, clock)
    tick(notifier, clock, 1)
    assert [event["eventType"] for event in delivered(service)] == [102, 101]


def test_a_refused_notice_is_resent_three_times_then_given_up(store, clock):
    agora, notifier = emulator(store)
    with responses.RequestsMock() as service:
        service.post(URL, status=503, json={"error": "down"})
        join(agora)
        tick(notifier, clock, STARTUP_SECONDS)
        for delay in RETRY_DELAYS:
            tick(notifier, clock, delay)
        tick(notifier, clock, 10)
        assert len(service.calls) == 1 + len(RETRY_DELAYS)
        assert len({json.loads(call.request.body)["noticeId"] for call in service.calls}) == 1


def test_two_workers_sharing_the_store_send_each_notice_once(tmp_path, clock, service):
    first_store = SandboxStore(str(tmp_path / "shared.sqlite3"), clock=clock)
    second_store = SandboxStore(str(tmp_path / "shared.sqlite3"), clock=clock)
    agora, first = emulator(first_store)
    _, second = emulator(second_store)
    agent_id = join(agora).get_json()["agent_id"]
    agora.post(f"{BASE}/agents/{agent_id}/leave", headers=AUTH)
    clock.advance(STARTUP_SECONDS)
    for notifier in (first, second, first, second):
        tick(notifier, clock)
    assert sorted(event["eventType"] for event in delivered(service)) == [101, 102]
