"""GET /metrics under gunicorn with 3 workers: the figures are the service's, summed over workers."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import ROOT, start_gunicorn

pytestmark = pytest.mark.e2e

TOKENS_OK = ("http_requests_total", {"route": "/api/tokens.json", "method": "POST", "status": "200"})


def fresh_connection(request_id=None):
    # A new connection each time, so that calls spread over the workers.
    return {"X-Request-ID": request_id or uuid.uuid4().hex, "Connection": "close"}


def scrape(server, request_id=None):
    """{(name, labels): value} of one scrape, parsed by prometheus-client's parser."""
    response = requests.get(f"{server.url}/metrics", headers=fresh_connection(request_id), timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name, labels=None):
    return samples.get((name, frozenset((labels or {}).items())), 0.0)


def post(server, path, body):
    return requests.post(f"{server.url}{path}", json=body, headers=fresh_connection(), timeout=10)


def mint(server, count):
    ids = [uuid.uuid4().hex for _ in range(count)]
    for request_id in ids:
        response = requests.post(
            f"{server.url}/api/tokens.json",
            json={"channel": "metrics", "uid": 42},
            headers=fresh_connection(request_id),
            timeout=10,
        )
        assert response.status_code == 200, response.text
    return ids


def test_token_requests_over_three_workers_add_up_exactly(server):
    before = value(scrape(server), *TOKENS_OK)
    minted = 60
    ids = mint(server, minted)
    served_by = server.pids_by_request_id(set(ids))
    assert len({served_by[request_id] for request_id in ids}) >= 2, "one worker served every token: nothing summed"

    # Scrape until at least two workers have answered (which one accepts a connection is chance).
    figures, scrapers = [], set()
    for _ in range(8):
        batch = [uuid.uuid4().hex for _ in range(6)]
        figures += [value(scrape(server, request_id), *TOKENS_OK) - before for request_id in batch]
        found = server.pids_by_request_id(set(batch))
        scrapers |= {found[request_id] for request_id in batch}
        if len(scrapers) >= 2:
            break
    assert len(scrapers) >= 2, "one worker answered every scrape"
    # whichever worker answers, the figure is the service's total, not the answering worker's share
    assert figures == [minted] * len(figures)


def test_transcription_flow_is_counted_once_across_workers(server):
    before = scrape(server)
    assert value(before, "rtt_tasks_running") == 0
    started = post(server, "/api/rtt/start.json", {"channel": "metrics-flow"}).json()
    assert post(server, "/api/rtt/start.json", {"channel": "metrics-flow"}).json()["alreadyRunning"] is True
    assert post(server, "/api/rtt/query.json", {"taskId": started["taskId"]}).status_code == 200
    running = [value(scrape(server), "rtt_tasks_running") for _ in range(3)]
    assert post(server, "/api/rtt/stop.json", {"taskId": started["taskId"]}).status_code == 200
    assert post(server, "/api/rtt/stop.json", {"taskId": started["taskId"]}).status_code == 404
    after = scrape(server)

    def rise(name, labels=None):
        return value(after, name, labels) - value(before, name, labels)

    assert running == [1, 1, 1]  # from the shared store, whichever worker is asked
    assert value(after, "rtt_tasks_running") == 0
    assert rise("rtt_task_starts_total", {"result": "started"}) == 1
    assert rise("rtt_task_starts_total", {"result": "already_running"}) == 1
    assert rise("rtt_tasks_ended_total", {"reason": "stopped"}) == 1
    assert rise("rtt_tasks_ended_total", {"reason": "gone"}) == 0  # the second stop ended nothing
    for operation, outcome in (("join", "ok"), ("query", "ok"), ("leave", "ok"), ("leave", "4xx")):
        assert rise("agora_requests_total", {"operation": operation, "outcome": outcome}) == 1
    # histograms are merged over workers too: count and +Inf bucket agree
    assert rise("agora_request_duration_seconds_count", {"operation": "leave"}) == 2
    assert rise("agora_request_duration_seconds_bucket", {"operation": "leave", "le": "+Inf"}) == 2


def test_prometheus_own_linter_accepts_the_text(server):
    """promtool (Debian's prometheus package) parses it with Prometheus' Go parser and lints it."""
    if shutil.which("promtool") is None:
        pytest.skip("promtool is missing (apt-get install prometheus)")
    mint(server, 1)
    post(server, "/api/rtt/stop.json", {"taskId": "NO-SUCH-TASK"})
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_a_killed_workers_counts_are_kept(server):
    ids = mint(server, 12)
    victim = int(server.pids_by_request_id(set(ids))[ids[0]])
    total = value(scrape(server), *TOKENS_OK)
    booted = server.log().count("Worker ready")

    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while server.log().count("Worker ready") <= booted:  # gunicorn boots a replacement
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    assert re.search(rf"Worker \(pid:{victim}\) was sent SIGKILL", server.log())

    assert value(scrape(server), *TOKENS_OK) == total
    mint(server, 1)
    assert value(scrape(server), *TOKENS_OK) == total + 1


def test_an_operators_directory_is_wiped_when_gunicorn_starts(tmp_path):
    directory = tmp_path / "prometheus"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(directory), "RATELIMIT_ENABLED": "false"}
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = start_gunicorn(tmp_path / "first", env=env, workers=2)
    try:
        mint(first, 3)
        assert value(scrape(first), *TOKENS_OK) == 3
    finally:
        assert first.stop() == 0, first.log()
    assert list(directory.glob("*.db")), "the operator's directory and its files are theirs: kept"

    second = start_gunicorn(tmp_path / "second", env=env, workers=2)
    try:
        assert value(scrape(second), *TOKENS_OK) == 0  # the earlier run's figures are not added in
        mint(second, 2)
        assert value(scrape(second), *TOKENS_OK) == 2
    finally:
        assert second.stop() == 0, second.log()


def test_gunicorn_makes_its_own_directory_and_removes_it_at_exit():
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PROMETHEUS", "_GUNICORN"))}
    code = "import os, runpy; runpy.run_path('gunicorn.conf.py'); print(os.environ['PROMETHEUS_MULTIPROC_DIR'])"
    made = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    directory = Path(made.stdout.strip())
    assert directory.name.startswith("gunicorn-metrics-")
    assert not directory.exists()  # the master (here: the process that read the file) removed it when it exited
