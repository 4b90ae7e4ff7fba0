"""Over real HTTP, against gunicorn with 3 workers sharing the sandbox."""

import subprocess
import sys
import uuid

import pytest
import requests

from api.settings import SANDBOX_CREDENTIALS
from tests.servers import ROOT
from tests.tokens import PUBLISHER_PRIVILEGES, assert_token

pytestmark = pytest.mark.e2e


def call(server, path, body, request_id=None):
    # A new connection each time, so that calls spread over the workers.
    headers = {"X-Request-ID": request_id or uuid.uuid4().hex, "Connection": "close"}
    return requests.post(f"{server.url}{path}", json=body, headers=headers, timeout=10)


def test_healthz_says_sandbox(server):
    assert requests.get(f"{server.url}/healthz", timeout=5).json() == {"status": "ok", "mode": "sandbox", "rtt": "7.x"}


def test_tokens_start_query_stop_twenty_times_across_workers(server):
    flows = []
    for _ in range(20):
        ids = {step: uuid.uuid4().hex for step in ("token", "start", "query", "stop", "again")}
        token = call(server, "/api/tokens.json", {"channel": "class-1", "uid": 1234}, ids["token"])
        assert token.status_code == 200
        data = token.json()
        assert_token(
            data["token"],
            channel="class-1",
            uid=1234,
            privileges=PUBLISHER_PRIVILEGES,
            expires_at=data["expiresAt"],
            app_id=SANDBOX_CREDENTIALS["APP_ID"],
            cert=SANDBOX_CREDENTIALS["APP_CERTIFICATE"],
        )

        started = call(server, "/api/rtt/start.json", {"channel": "class-1", "languages": ["en-US"]}, ids["start"])
        assert started.status_code == 200, started.text
        task_id = started.json()["taskId"]
        queried = call(server, "/api/rtt/query.json", {"taskId": task_id}, ids["query"])
        assert queried.status_code == 200, queried.text
        assert queried.json()["status"] in ("STARTING", "RUNNING")
        stopped = call(server, "/api/rtt/stop.json", {"taskId": task_id}, ids["stop"])
        assert stopped.json() == {"taskId": task_id, "status": "STOPPED", "channel": "class-1"}
        again = call(server, "/api/rtt/stop.json", {"taskId": task_id}, ids["again"])
        assert (again.status_code, again.json()["error"]["code"]) == (404, "task_not_found")
        flows.append(ids)

    served_by = server.pids_by_request_id({ids[step] for ids in flows for step in ids})
    workers = {served_by[ids[step]] for ids in flows for step in ("start", "query", "stop")}
    crossing = [ids for ids in flows if len({served_by[ids[step]] for step in ("start", "query", "stop")}) > 1]
    assert len(workers) >= 2, "all calls landed on one worker; the test proves nothing"
    assert crossing, "no flow crossed workers"


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"op": "join", "status": 401}, 502, "agora_auth_failed"),
        ({"op": "join", "status": 403}, 502, "agora_auth_failed"),
        ({"op": "join", "status": 400, "body": {"detail": "bad", "reason": "InvalidParameter"}}, 502, "agora_rejected"),
        ({"op": "join", "status": 409}, 409, "agora_conflict"),
        ({"op": "join", "status": 500}, 502, "agora_unavailable"),
        ({"op": "join", "status": 503}, 502, "agora_unavailable"),
        ({"op": "join", "malformed": True}, 502, "agora_unavailable"),
        ({"op": "join", "disconnect": True}, 502, "agora_unavailable"),
        ({"op": "join", "hang": True}, 504, "agora_timeout"),
    ],
)
def test_injected_faults_are_mapped_and_the_workers_survive(server, fault, status, code):
    booted = server.log().count("Booting worker")
    channel = f"fault-{uuid.uuid4().hex[:8]}"  # a channel with a running task would not join at all
    assert call(server, "/sandbox/faults", fault).status_code == 201
    failed = call(server, "/api/rtt/start.json", {"channel": channel})
    assert failed.status_code == status
    assert failed.headers["Content-Type"] == "application/json"
    assert failed.json()["error"]["code"] == code
    assert call(server, "/api/rtt/start.json", {"channel": channel}).status_code == 200
    assert server.log().count("Booting worker") == booted  # no worker died and was replaced


def test_agora_rate_limit_is_passed_on(server):
    call(server, "/sandbox/faults", {"op": "join", "status": 429, "headers": {"Retry-After": "12"}})
    response = call(server, "/api/rtt/start.json", {"channel": "rate-limited"})
    assert (response.status_code, response.headers["Retry-After"]) == (429, "12")


def test_query_and_stop_of_an_unknown_task(server):
    for path in ("/api/rtt/query.json", "/api/rtt/stop.json"):
        response = call(server, path, {"taskId": "NO-SUCH-TASK"})
        assert (response.status_code, response.json()["error"]["code"]) == (404, "task_not_found")


@pytest.mark.parametrize(
    ("path", "data", "headers", "status", "code"),
    [
        ("/api/tokens.json", "{oops", {"Content-Type": "application/json"}, 400, "invalid_json"),
        ("/api/tokens.json", '{"channel": "x"}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        ("/api/rtt/start.json", '{"channel": "a/b"}', {"Content-Type": "application/json"}, 400, "invalid_field"),
        ("/api/nothing.json", "{}", {"Content-Type": "application/json"}, 404, "not_found"),
        ("/api/tokens.json", "x" * 70_000, {"Content-Type": "application/json"}, 413, "payload_too_large"),
    ],
)
def test_bad_requests_get_json_errors(server, path, data, headers, status, code):
    response = requests.post(f"{server.url}{path}", data=data, headers=headers, timeout=10)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


def test_wrong_method_is_json(server):
    response = requests.get(f"{server.url}/api/rtt/start.json", timeout=5)
    assert (response.status_code, response.json()["error"]["code"]) == (405, "method_not_allowed")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CUSTOMER_ID": "someone"}, "missing APP_ID, APP_CERTIFICATE, CUSTOMER_SECRET"),
        ({"APP_ID": "0" * 32, "APP_CERTIFICATE": "1" * 32, "CUSTOMER_ID": "a"}, "missing CUSTOMER_SECRET"),
        (
            {"APP_ID": "short", "APP_CERTIFICATE": "1" * 32, "CUSTOMER_ID": "a", "CUSTOMER_SECRET": "b"},
            "APP_ID must be 32 hexadecimal characters",
        ),
    ],
)
def test_gunicorn_refuses_a_partial_configuration(tmp_path, env, named):
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-b", "127.0.0.1:0"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert named in result.stderr
