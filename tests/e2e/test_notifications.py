"""Agora's notifications under gunicorn with several workers, over real HTTP.

The registry is read straight from its SQLite file (STATE_DB): a query would ask Agora, and
these tests show that the registry learns of an ended agent without anyone asking.
"""

import concurrent.futures
import json
import re
import time
import uuid

import pytest
import requests

from api.settings import SANDBOX_CREDENTIALS, SANDBOX_NCS_SECRET
from sandbox.notifier import Notifier
from sandbox.store import SandboxStore
from state.sqlite_store import SqliteStore
from tests import servers
from tests.servers import emulator_over_http, start_gunicorn
from utils.ncs_signature import V2_HEADER, sign

pytestmark = pytest.mark.e2e

SECRET = "e2e-ncs-secret-7f3a9c"


def post(url, path, body, **kwargs):
    return requests.post(f"{url}{path}", json=body, headers={"Connection": "close"}, timeout=30, **kwargs)


def ended_in_registry(tmp_path, task_id, seconds=30.0):
    """The task as the registry's file holds it, once it has ended (polled, never slept on blindly)."""
    registry = SqliteStore(str(tmp_path / "state.sqlite3"))
    deadline = time.monotonic() + seconds
    while True:
        task = registry.get_task(task_id)
        if task is not None and task.ended:
            return task
        assert time.monotonic() < deadline, f"task {task_id} did not end within {seconds} s: {task}"
        time.sleep(0.1)


def outcomes(server, notice_agent, count, seconds=30.0):
    """The notification outcomes the service logged for one agent, once `count` of them are there."""
    deadline = time.monotonic() + seconds
    while True:
        found = re.findall(rf"notification \S+ \(event (\d+), agent {notice_agent}\): (\w+)", server.log())
        if len(found) >= count or time.monotonic() > deadline:
            return sorted(found)
        time.sleep(0.1)


@pytest.fixture(scope="module")
def sandbox_server(tmp_path_factory):
    """Sandbox mode with its own notifications, each delivered twice and every 101 after its 102."""
    folder = tmp_path_factory.mktemp("ncs-sandbox")
    server = start_gunicorn(
        folder,
        env={
            "RATELIMIT_ENABLED": "false",
            "SANDBOX_NOTIFICATIONS": "true",
            "SANDBOX_NOTIFY_DUPLICATES": "true",
            "SANDBOX_NOTIFY_REORDER": "true",
        },
        workers=3,
    )
    server.folder = folder
    yield server
    assert server.stop() == 0, server.log()


def test_the_sandboxs_idle_timeout_reaches_the_registry_without_a_query(sandbox_server):
    channel = f"idle-{uuid.uuid4().hex[:6]}"
    started = post(sandbox_server.url, "/api/rtt/start.json", {"channel": channel, "maxIdleTime": 5}).json()
    task = ended_in_registry(sandbox_server.folder, started["taskId"])
    assert (task.status, task.end_reason) == ("STOPPED", "Idle for too long")
    # Reordered and doubled: the 102 applied once, its copy a duplicate, the late 101 changing nothing.
    assert outcomes(sandbox_server, started["taskId"], 4) == [
        ("101", "duplicate"),
        ("101", "stale"),
        ("102", "accepted"),
        ("102", "duplicate"),
    ]
    queried = post(sandbox_server.url, "/api/rtt/query.json", {"channel": channel}).json()
    assert (queried["status"], queried["endedReason"]) == ("STOPPED", "Idle for too long")
    fresh = post(sandbox_server.url, "/api/rtt/start.json", {"channel": channel}).json()
    assert fresh["taskId"] != started["taskId"] and fresh["alreadyRunning"] is False
    post(sandbox_server.url, "/api/rtt/stop.json", {"taskId": fresh["taskId"]})


def test_an_injected_failure_reaches_the_registry_and_frees_the_channel(sandbox_server):
    channel = f"fail-{uuid.uuid4().hex[:6]}"
    fault = {"op": "join", "fail": "Fatal ASR error", "after": 1}
    assert post(sandbox_server.url, "/sandbox/faults", fault).status_code == 201
    started = post(sandbox_server.url, "/api/rtt/start.json", {"channel": channel}).json()
    task = ended_in_registry(sandbox_server.folder, started["taskId"])
    assert (task.status, task.end_reason) == ("FAILED", "Fatal ASR error")
    assert SqliteStore(str(sandbox_server.folder / "state.sqlite3")).task_for_channel(channel) is None


def signed_event(agent_id, event_type=102, notice_id=None):
    payload = {"agent_id": agent_id, "channel": "dup", "start_ts": int(time.time()) - 5}
    if event_type == 102:
        payload.update(stop_ts=int(time.time()), status="FAILED", message="RTC connection error")
    body = {"sid": agent_id, "noticeId": notice_id or uuid.uuid4().hex, "productId": 20, "eventType": event_type}
    raw = json.dumps({**body, "notifyMs": int(time.time() * 1000), "payload": payload}).encode()
    return raw, {"Content-Type": "application/json", V2_HEADER: sign(raw, SANDBOX_NCS_SECRET)}


def test_duplicates_across_workers_are_applied_once_and_forgeries_not_at_all(sandbox_server):
    channel = f"dup-{uuid.uuid4().hex[:6]}"
    task_id = post(sandbox_server.url, "/api/rtt/start.json", {"channel": channel}).json()["taskId"]
    raw, headers = signed_event(task_id)
    forged = requests.post(
        f"{sandbox_server.url}/api/rtt/notifications.json", data=raw, headers={V2_HEADER: "0" * 64}, timeout=30
    )
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "invalid_signature")
    assert not SqliteStore(str(sandbox_server.folder / "state.sqlite3")).get_task(task_id).ended

    def deliver(index):
        sent = {**headers, "Connection": "close", "X-Request-ID": f"dup-{task_id}-{index}"}
        return requests.post(f"{sandbox_server.url}/api/rtt/notifications.json", data=raw, headers=sent, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(deliver, range(24)))
    assert {answer.status_code for answer in answers} == {200}
    assert sorted(answer.json()["outcome"] for answer in answers) == ["accepted"] + ["duplicate"] * 23
    workers = sandbox_server.pids_by_request_id({f"dup-{task_id}-{i}" for i in range(24)})
    assert len({workers[f"dup-{task_id}-{i}"] for i in range(24)}) > 1  # they did cross workers
    task = ended_in_registry(sandbox_server.folder, task_id)
    assert (task.status, task.end_reason) == ("FAILED", "RTC connection error")


@pytest.fixture
def emulator(tmp_path):
    """A standalone Agora emulator that signs and posts notifications, as Agora's NCS would."""
    store = SandboxStore(str(tmp_path / "emulator.sqlite3"))
    target = {"url": None}
    notifier = Notifier(store, SECRET, lambda: target["url"])
    with emulator_over_http(store, notifier=notifier) as server:
        notifier.start()
        server.target = target
        yield server


def live_env(emulator, **extra):
    return servers.live_env(emulator, NCS_SECRET=SECRET, **extra)


def test_live_mode_learns_of_a_failure_from_the_notification_alone(tmp_path, emulator):
    server = start_gunicorn(tmp_path, env=live_env(emulator), workers=3)
    emulator.target["url"] = f"{server.url}/api/rtt/notifications.json"
    try:
        assert (
            requests.post(
                f"http://127.0.0.1:{emulator.server_port}/_sandbox/faults",
                json={"op": "join", "fail": "Fatal Translation error", "after": 1.5},
                timeout=10,
            ).status_code
            == 201
        )
        started = post(server.url, "/api/rtt/start.json", {"channel": "live-fail"}).json()
        task = ended_in_registry(tmp_path, started["taskId"])
        assert (task.status, task.end_reason) == ("FAILED", "Fatal Translation error")
        assert emulator.counters.requests == 2  # the fault and the join: no query, no list
    finally:
        assert server.stop() == 0, server.log()


def test_the_cap_stops_a_task_on_its_own_with_one_leave(tmp_path, emulator):
    env = live_env(emulator, MAX_TASK_SECONDS="2", SWEEP_INTERVAL_SECONDS="0.2")
    server = start_gunicorn(tmp_path, env=env, workers=3)
    emulator.target["url"] = f"{server.url}/api/rtt/notifications.json"
    try:
        # Every worker serves a request, so each runs its sweeper: they must not all call leave.
        for _ in range(6):
            requests.get(f"{server.url}/healthz", headers={"Connection": "close"}, timeout=10)
        started = post(server.url, "/api/rtt/start.json", {"channel": "capped"}).json()
        task = ended_in_registry(tmp_path, started["taskId"])
        assert (task.status, task.end_reason) == ("STOPPED", "max_duration")
        agent = emulator.store.get_agent(SANDBOX_CREDENTIALS["APP_ID"], started["taskId"])
        assert agent.stopped_ts is not None  # Agora was told: the bill stops
        assert emulator.counters.requests == 2  # the join and one leave
        queried = post(server.url, "/api/rtt/query.json", {"taskId": started["taskId"]}).json()
        assert (queried["status"], queried["endedReason"]) == ("STOPPED", "max_duration")
    finally:
        assert server.stop() == 0, server.log()
