"""Every error nginx answers itself is the service's JSON error shape, with Content-Type: application/json."""

import os
import signal
import sqlite3
import threading
import time

import pytest
import requests

from tests.deploy.conftest import start_serve
from tests.deploy.raw_http import closed_by_peer, connect, exchange

pytestmark = pytest.mark.e2e

LIMIT = 2  # requests in progress per client address, kept tiny so the test can reach it


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    env = {
        "NGINX_CLIENT_TIMEOUT": "1",
        "NGINX_CONNECTIONS_PER_CLIENT": str(LIMIT),
        "NGINX_PROXY_READ_TIMEOUT": "1",
        "MAX_CONTENT_LENGTH": "2048",
    }
    running = start_serve(tmp_path_factory.mktemp("nginx-errors"), env)
    yield running
    assert running.stop() == 0, running.log()


def assert_json_error(answer, status, code, message=None):
    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message"}
    if message is not None:
        assert error["message"] == message
    assert answer.headers["x-request-id"]


HOST = b"Host: localhost\r\n"
BODY_HEADERS = HOST + b"Content-Type: application/json\r\n"

BAD_REQUESTS = {
    "http/1.1 without host": (b"GET /healthz HTTP/1.1\r\n\r\n", 400, "bad_request"),
    "garbage request line": (b"HELLO\r\n\r\n", 400, "bad_request"),
    "header line without a colon": (b"GET /healthz HTTP/1.1\r\n" + HOST + b"no colon\r\n\r\n", 400, "bad_request"),
    "length and chunked together": (
        b"POST /api/tokens.json HTTP/1.1\r\n"
        + BODY_HEADERS
        + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n",
        400,
        "bad_request",
    ),
    "request line of 4095 bytes": (b"GET /" + b"a" * 4081 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414, "uri_too_long"),
    "one header of 5 KB": (b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * 5000 + b"\r\n\r\n", 431, None),
    "20 KB of headers": (
        b"GET /healthz HTTP/1.1\r\n"
        + HOST
        + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(200))
        + b"\r\n",
        431,
        None,
    ),
    "body over the limit, with a length": (
        b"POST /api/tokens.json HTTP/1.1\r\n" + BODY_HEADERS + b"Content-Length: 2049\r\n\r\n" + b" " * 2049,
        413,
        "payload_too_large",
    ),
    "body over the limit, chunked": (
        b"POST /api/tokens.json HTTP/1.1\r\n" + BODY_HEADERS + b"Transfer-Encoding: chunked\r\n\r\n"
        b"801\r\n" + b" " * 0x801 + b"\r\n0\r\n\r\n",
        413,
        "payload_too_large",
    ),
    "a method gunicorn would refuse": (b"AB /healthz HTTP/1.1\r\n" + HOST + b"\r\n", 405, "method_not_allowed"),
    "a transfer coding other than chunked": (
        b"POST /api/tokens.json HTTP/1.1\r\n" + BODY_HEADERS + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
        "not_implemented",
    ),
    "http/2.0 in a request line": (b"GET /healthz HTTP/2.0\r\n" + HOST + b"\r\n", 505, "http_version_not_supported"),
    "static file that is not there": (b"GET /static/nothing.js HTTP/1.1\r\n" + HOST + b"\r\n", 404, "not_found"),
    "static file posted to": (
        b"POST /static/app.css HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\n\r\n",
        405,
        "method_not_allowed",
    ),
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_a_request_nginx_refuses_is_json(served, name):
    data, status, code = BAD_REQUESTS[name]
    assert_json_error(exchange(served.port, data), status, code or "headers_too_large")


def test_the_size_limit_is_the_services_and_says_so(served):
    answer = exchange(served.port, BAD_REQUESTS["body over the limit, chunked"][0])
    assert_json_error(answer, 413, "payload_too_large", "The request body is larger than 2048 bytes.")


def test_a_body_of_exactly_the_limit_reaches_the_service(served):
    body = b'{"channel":"deploy","uid":1}'
    body += b" " * (2048 - len(body))
    answer = exchange(
        served.port, b"POST /api/tokens.json HTTP/1.1\r\n" + BODY_HEADERS + b"Content-Length: 2048\r\n\r\n" + body
    )
    assert answer.status == 200
    assert answer.json()["uid"] == 1


def test_more_requests_in_progress_than_the_limit_get_429_json_with_retry_after(served):
    # Requests waiting for their bodies count; they come from their own address, 127.0.0.7.
    waiting = [connect(served.port, "127.0.0.7") for _ in range(LIMIT)]
    for sock in waiting:
        sock.sendall(b"POST /api/tokens.json HTTP/1.1\r\n" + BODY_HEADERS + b"Content-Length: 100\r\n\r\n{")
    try:
        # nginx counts a request once it has its headers: poll until both are counted.
        deadline = time.monotonic() + 5
        while True:
            answer = exchange(served.port, b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n", source="127.0.0.7")
            if answer.status != 200 or time.monotonic() > deadline:
                break
        assert_json_error(answer, 429, "too_many_connections")
        assert f"at most {LIMIT} at once" in answer.json()["error"]["message"]
        assert answer.headers["retry-after"] == "1"
        other = exchange(served.port, b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n", source="127.0.0.8")
        assert other.status == 200, "another address must not be limited"
    finally:
        for sock in waiting:
            sock.close()


@pytest.mark.parametrize(
    "partial",
    [
        b"GET /healthz HTTP/1.1\r\nHost: local",  # headers never finished (slowloris)
        b"POST /api/tokens.json HTTP/1.1\r\n" + BODY_HEADERS + b"Content-Length: 100\r\n\r\n{",  # short body
        b"POST /api/tokens.json HTTP/1.1\r\n" + BODY_HEADERS + b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n",
    ],
    ids=["headers", "short body", "chunked without its end"],
)
def test_a_client_that_stops_sending_is_disconnected(served, partial):
    # nginx does not answer a client that timed out (it logs 408): it closes the connection,
    # after NGINX_CLIENT_TIMEOUT (1 s here). The socket's own timeout (10 s) bounds the test.
    with connect(served.port) as sock:
        sock.sendall(partial)
        assert closed_by_peer(sock)


def queue_join_delay(served, seconds):
    answer = requests.post(f"{served.url}/sandbox/faults", json={"op": "join", "delay": seconds}, timeout=5)
    assert answer.status_code == 201


def start_task(served, results, channel):
    # A channel of its own: a start on a channel whose task runs would not call Agora at all.
    results.append(requests.post(f"{served.url}/api/rtt/start.json", json={"channel": channel}, timeout=20))


def test_a_service_slower_than_the_read_timeout_is_504_json(served):
    queue_join_delay(served, 3)  # Agora answers in 3 s; nginx waits 1 s (NGINX_PROXY_READ_TIMEOUT)
    results = []
    start_task(served, results, "slow-for-504")
    answer = results[0]
    assert answer.status_code == 504
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {"error": {"code": "gateway_timeout", "message": "The service did not answer within 1 s."}}


def test_a_worker_dying_mid_request_is_502_json_and_the_service_recovers(served):
    queue_join_delay(served, 3)
    results = []
    caller = threading.Thread(target=start_task, args=(served, results, "slow-for-502"))
    caller.start()
    # The fault is used up when the request reaches the emulated Agora: it is then inside a worker.
    deadline = time.monotonic() + 10
    with sqlite3.connect(served.sandbox_db) as db:
        while db.execute("SELECT count(*) FROM faults").fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.05)
    for worker in served.gunicorn_workers():
        os.kill(worker, signal.SIGKILL)
    caller.join()
    answer = results[0]
    assert answer.status_code == 502, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["error"]["code"] == "bad_gateway"
    # gunicorn starts new workers; until they answer, nginx's own errors (JSON) stand in.
    deadline = time.monotonic() + 30
    while (health := requests.get(f"{served.url}/healthz", timeout=10)).status_code != 200:
        assert health.headers["Content-Type"] == "application/json"
        assert health.json()["error"]["code"] in ("bad_gateway", "gateway_timeout")
        assert time.monotonic() < deadline, "gunicorn's new workers did not answer within 30 s"
    assert health.json()["status"] == "ok"


def test_the_services_own_errors_pass_through_untouched(served):
    invalid = requests.post(f"{served.url}/api/tokens.json", json={"channel": "a/b", "uid": 1}, timeout=5)
    assert invalid.status_code == 400
    assert invalid.json()["error"]["field"] == "channel"
    unknown = requests.post(f"{served.url}/api/rtt/query.json", json={"taskId": "NOPE"}, timeout=5)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "task_not_found")
    requests.post(f"{served.url}/sandbox/faults", json={"op": "join", "status": 503}, timeout=5)
    upstream = requests.post(f"{served.url}/api/rtt/start.json", json={"channel": "a"}, timeout=5)
    assert (upstream.status_code, upstream.json()["error"]["code"]) == (502, "agora_unavailable")
    assert upstream.json()["error"]["agoraStatus"] == 503


AT_THE_LIMITS = {
    "request line of 4094 bytes": b"GET /" + b"a" * 4080 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
    "a header of 4 KB less its line ending": b"GET /a HTTP/1.1\r\n" + HOST + b"X-A: " + b"a" * 4089 + b"\r\n\r\n",
    "600 headers": b"GET /a HTTP/1.1\r\n" + HOST + b"".join(b"X-%d: v\r\n" % i for i in range(600)) + b"\r\n",
}


@pytest.mark.parametrize("name", AT_THE_LIMITS)
def test_what_nginx_lets_through_gunicorn_accepts(served, name):
    # gunicorn would refuse in HTML (400, 414, 431) past its own limits: nginx's must come first.
    answer = exchange(served.port, AT_THE_LIMITS[name])
    assert_json_error(answer, 404, "not_found")
    assert answer.json()["error"]["message"].startswith("No such endpoint.")  # the service's, not nginx's
