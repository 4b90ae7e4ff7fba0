"""Over real HTTP, under the shipped worker class: a hung Agora holds starts, not the worker."""

import threading

import pytest
import requests

from tests.servers import start_gunicorn

pytestmark = pytest.mark.e2e

POOL = 4  # AGORA_POOL_SIZE: the calls one worker may have waiting on Agora
HUNG = 3 * POOL  # more starts than the worker has connections to Agora, and than gthread would have threads


@pytest.fixture
def one_worker(tmp_path):
    server = start_gunicorn(
        tmp_path,
        # Joins hang until the read timeout; a start that finds no free connection waits 0.3 s for one.
        {"AGORA_POOL_SIZE": str(POOL), "AGORA_READ_TIMEOUT": "8", "AGORA_CONNECT_TIMEOUT": "0.3"},
        workers=1,
        threads=POOL,  # what a gthread worker would have; the shipped gevent worker ignores it
    )
    yield server
    server.stop()


def test_starts_on_a_hung_agora_are_timed_out_or_shed_while_other_routes_answer(one_worker):
    url = one_worker.url
    assert requests.post(f"{url}/sandbox/faults", json={"op": "join", "hang": True, "count": HUNG}).status_code == 201
    answers, lock, shed = [], threading.Lock(), threading.Semaphore(0)

    def start(index):
        answer = requests.post(f"{url}/api/rtt/start.json", json={"channel": f"hung-{index}"}, timeout=60)
        with lock:
            answers.append(answer)
        if answer.status_code == 503:
            shed.release()

    starts = [threading.Thread(target=start, args=(index,)) for index in range(HUNG)]
    for thread in starts:
        thread.start()
    for _ in range(HUNG - POOL):  # the shed ones come back first, after their short wait for a connection
        assert shed.acquire(timeout=60)

    # POOL starts now wait on Agora for 8 s; the worker still serves what never calls Agora.
    token = requests.post(f"{url}/api/tokens.json", json={"channel": "class-1", "uid": 7}, timeout=10)
    health = requests.get(f"{url}/healthz", timeout=10)
    page = requests.get(f"{url}/", timeout=10)
    with lock:
        waiting = HUNG - len(answers)
    assert (token.status_code, health.status_code, page.status_code) == (200, 200, 200)
    assert waiting == POOL  # answered while every connection to Agora was held

    for thread in starts:
        thread.join(60)
    outcomes = sorted((a.status_code, a.json()["error"]["code"], a.headers.get("Retry-After")) for a in answers)
    assert outcomes == [(503, "agora_busy", "1")] * (HUNG - POOL) + [(504, "agora_timeout", None)] * POOL
