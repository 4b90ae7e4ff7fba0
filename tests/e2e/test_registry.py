"""The registry under gunicorn, in live mode against the emulator over HTTP: several workers,
a restart, and two servers sharing one Redis as two machines."""

import concurrent.futures
import uuid

import pytest
import requests

from api.settings import SANDBOX_CREDENTIALS
from sandbox.store import SandboxStore
from tests.servers import emulator_over_http, live_env, redis_server_binary, start_gunicorn, start_redis

pytestmark = pytest.mark.e2e


@pytest.fixture
def emulator(tmp_path):
    """A standalone Agora emulator; each join takes 0.4 s, so that racing starts overlap."""
    with emulator_over_http(SandboxStore(str(tmp_path / "emulator.sqlite3")), latency=0.4) as server:
        yield server


def post(url, path, body):
    return requests.post(f"{url}{path}", json=body, headers={"Connection": "close"}, timeout=30)


def agents_in(emulator, channel):
    app_id = SANDBOX_CREDENTIALS["APP_ID"]
    return [
        agent for agent in emulator.store.list_agents(app_id, channel) if not agent.is_stopped(emulator.store.clock())
    ]


def race(urls, channel, count=24):
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(
            pool.map(lambda i: post(urls[i % len(urls)], "/api/rtt/start.json", {"channel": channel}), range(count))
        )


def test_racing_starts_on_several_workers_make_one_agent(tmp_path, emulator):
    server = start_gunicorn(tmp_path, env=live_env(emulator), workers=3, threads=16)
    try:
        answers = race([server.url], "race")
        assert {answer.status_code for answer in answers} == {200}
        assert len({answer.json()["taskId"] for answer in answers}) == 1
        assert len(agents_in(emulator, "race")) == 1
        task_id = answers[0].json()["taskId"]
        # Query and stop by channel, on whichever worker answers.
        assert post(server.url, "/api/rtt/query.json", {"channel": "race"}).json()["taskId"] == task_id
        assert post(server.url, "/api/rtt/stop.json", {"channel": "race"}).json()["taskId"] == task_id
        assert agents_in(emulator, "race") == []
        # The channel's last task says how it ended; there is nothing left to stop.
        ended = post(server.url, "/api/rtt/query.json", {"channel": "race"}).json()
        assert (ended["taskId"], ended["status"], ended["endedReason"]) == (task_id, "STOPPED", "stopped")
        assert post(server.url, "/api/rtt/stop.json", {"channel": "race"}).status_code == 404
        fresh = post(server.url, "/api/rtt/start.json", {"channel": "race"}).json()
        assert fresh["taskId"] != task_id and fresh["alreadyRunning"] is False
    finally:
        assert server.stop() == 0, server.log()


def test_a_task_survives_a_restart(tmp_path, emulator):
    env = live_env(emulator)
    server = start_gunicorn(tmp_path, env=env, workers=2)
    try:
        started = post(server.url, "/api/rtt/start.json", {"channel": "kept"}).json()
    finally:
        assert server.stop() == 0
    again = start_gunicorn(tmp_path, env=env, workers=2)  # same instance state
    try:
        answer = post(again.url, "/api/rtt/start.json", {"channel": "kept"}).json()
        assert (answer["taskId"], answer["alreadyRunning"]) == (started["taskId"], True)
        assert len(agents_in(emulator, "kept")) == 1
    finally:
        assert again.stop() == 0


def test_an_idle_timeout_at_agora_is_seen_on_the_next_read(tmp_path, emulator):
    server = start_gunicorn(tmp_path, env=live_env(emulator), workers=2)
    try:
        task_id = post(server.url, "/api/rtt/start.json", {"channel": "idle"}).json()["taskId"]
        emulator.store.stop_agent(SANDBOX_CREDENTIALS["APP_ID"], task_id, "Idle for too long", emulator.store.clock())
        queried = post(server.url, "/api/rtt/query.json", {"channel": "idle"}).json()
        assert (queried["status"], queried["endedReason"]) == ("STOPPED", "Idle for too long")
        fresh = post(server.url, "/api/rtt/start.json", {"channel": "idle"}).json()
        assert fresh["taskId"] != task_id and not fresh["alreadyRunning"]
    finally:
        assert server.stop() == 0


@pytest.fixture
def redis_url(tmp_path):
    if redis_server_binary() is None:
        pytest.skip("redis-server is missing (apt-get install redis-server); CI installs it")
    server = start_redis(tmp_path)
    yield server.url
    server.stop()


def test_two_machines_sharing_redis_make_one_agent_per_channel(tmp_path, emulator, redis_url):
    machines = [
        start_gunicorn(tmp_path / name, env=live_env(emulator, REDIS_URL=redis_url), workers=2)
        for name in ("machine-a", "machine-b")
        if (tmp_path / name).mkdir() is None
    ]
    try:
        channel = f"shared-{uuid.uuid4().hex[:6]}"
        answers = race([machine.url for machine in machines], channel)
        assert {answer.status_code for answer in answers} == {200}
        assert len({answer.json()["taskId"] for answer in answers}) == 1
        assert len(agents_in(emulator, channel)) == 1
        stopped = post(machines[1].url, "/api/rtt/stop.json", {"channel": channel})
        assert stopped.json()["taskId"] == answers[0].json()["taskId"]
        ended = post(machines[0].url, "/api/rtt/query.json", {"channel": channel}).json()
        assert (ended["status"], ended["endedReason"]) == ("STOPPED", "stopped")  # as the other machine ended it
        assert post(machines[0].url, "/api/rtt/stop.json", {"channel": channel}).status_code == 404
    finally:
        for machine in machines:
            assert machine.stop() == 0
