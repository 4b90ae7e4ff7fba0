"""Updates under concurrent calls on several gunicorn workers: within Agora's 5 s gap exactly one
call gets through and the others are 429 with Retry-After; the emulator's record shows sequence
ids strictly increasing and updates >= 5 s apart (and >= 5 s after the join)."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.servers import redis_server_binary, start_gunicorn, start_redis

pytestmark = pytest.mark.e2e

CALLERS = 8
POLL_SECONDS = 0.25


@pytest.fixture(params=["sqlite", "redis"])
def gunicorn_workers(request, tmp_path):
    env = {"RATELIMIT_ENABLED": "false"}
    redis = None
    if request.param == "redis":
        if redis_server_binary() is None:
            pytest.skip("redis-server is missing (apt-get install redis-server)")
        redis = start_redis(tmp_path)
        env["REDIS_URL"] = redis.url
    running = start_gunicorn(tmp_path, env=env, workers=3)
    yield running
    assert running.stop() == 0, running.log()
    if redis is not None:
        redis.stop()


def burst(url, body):
    """CALLERS updates at once, each on its own connection so that they spread over the workers."""

    def call(n):
        with requests.Session() as session:
            return session.post(url, json={**body, "languages": [("es-ES", "fr-FR")[n % 2]]}, timeout=30)

    with ThreadPoolExecutor(CALLERS) as pool:
        return list(pool.map(call, range(CALLERS)))


def test_concurrent_updates_across_workers_are_sequenced_and_spaced(gunicorn_workers):
    server = gunicorn_workers
    task = requests.post(f"{server.url}/api/rtt/start.json", json={"channel": "sequencing"}, timeout=10).json()
    url = f"{server.url}/api/rtt/update.json"
    request_ids = set()
    for round_number in (1, 2):
        # Poll with bursts until the gap has passed: each burst lets at most one update through.
        while True:
            answers = burst(url, {"taskId": task["taskId"]})
            request_ids |= {answer.headers["X-Request-ID"] for answer in answers}
            accepted = [answer for answer in answers if answer.status_code == 200]
            refused = [answer for answer in answers if answer.status_code != 200]
            assert all(answer.status_code == 429 for answer in refused), [a.text for a in refused]
            for answer in refused:
                assert answer.json()["error"]["code"] == "update_too_soon"
                assert 1 <= int(answer.headers["Retry-After"]) <= 6
            if accepted:
                break
            time.sleep(POLL_SECONDS)  # between polls
        assert len(accepted) == 1
        assert accepted[0].json()["sequenceId"] == round_number

    record = requests.get(f"{server.url}/sandbox/tasks/{task['taskId']}", timeout=10).json()
    updates = record["updates"]
    assert [update["sequenceId"] for update in updates] == [1, 2]
    assert updates[0]["receivedTs"] - record["createTs"] >= 5.0
    assert updates[1]["receivedTs"] - updates[0]["receivedTs"] >= 5.0
    # the bursts really were served by several workers
    assert len(set(server.pids_by_request_id(request_ids).values())) >= 2
