"""The attacks that took gunicorn down on its own, against deploy/serve: the service keeps serving.

Each attack comes from its own loopback address (127.0.0.x is this machine too), so that it is
"another client" for nginx; the normal client is 127.0.0.1. Bounded by socket timeouts, never
by sleeping.
"""

import contextlib

import pytest

from tests.deploy.conftest import start_serve
from tests.deploy.raw_http import closed_by_peer, connect, exchange, read_answer, token_burst, token_request

pytestmark = pytest.mark.e2e

CLIENT_TIMEOUT = 2  # NGINX_CLIENT_TIMEOUT for this module: short, so the test sees it act


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    # Every nginx limit at its default but the timeout; no rate limit, which would refuse the
    # burst below before anything this test is about.
    env = {"NGINX_CLIENT_TIMEOUT": str(CLIENT_TIMEOUT), "RATELIMIT_ENABLED": "false"}
    running = start_serve(tmp_path_factory.mktemp("attacks"), env)
    yield running
    assert running.stop() == 0, running.log()


def normal_requests_succeed(served, count=40):
    """`count` token requests from the normal client, on new connections: every one a 200."""
    statuses = [exchange(served.port, token_request(close=True)).status for _ in range(count)]
    assert statuses == [200] * count


@contextlib.contextmanager
def attackers(served, count, source, data=b""):
    sockets = [connect(served.port, source) for _ in range(count)]
    try:
        for sock in sockets:
            if data:
                sock.sendall(data)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_slowloris_connections_do_not_stop_the_service_and_are_cut_off(served):
    with attackers(served, 600, "127.0.0.2", b"POST /api/tokens.json HTTP/1.1\r\nHost: localhost\r\nX-a") as slow:
        normal_requests_succeed(served)
        # nginx gives a client CLIENT_TIMEOUT seconds for all its headers, then drops it.
        assert all(closed_by_peer(sock) for sock in slow)


def test_idle_keep_alive_clients_do_not_stop_the_service(served):
    with attackers(served, 600, "127.0.0.3", b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n") as idle:
        assert {read_answer(sock).status for sock in idle} == {200}
        normal_requests_succeed(served)  # the 600 stay connected meanwhile, idle


def test_clients_that_keep_their_socket_after_a_close_do_not_stop_the_service(served):
    close = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    with attackers(served, 100, "127.0.0.4", close) as keepers:
        assert {read_answer(sock).status for sock in keepers} == {200}
        normal_requests_succeed(served)  # the 100 never close their end


@pytest.mark.parametrize(
    "partial",
    [
        b"Content-Length: 100\r\n\r\n{",  # a body sent slowly, or a Content-Length longer than the body
        b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n",  # a chunked body without its end
    ],
    ids=["slow or short body", "chunked without its end"],
)
def test_unfinished_bodies_wait_in_nginx_not_in_gunicorn(served, partial):
    head = b"POST /api/tokens.json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    # More than gunicorn's 128 threads: were each holding one, nothing else would be served.
    with attackers(served, 300, "127.0.0.5", head + partial) as bodies:
        normal_requests_succeed(served)
        assert all(closed_by_peer(sock) for sock in bodies)  # after CLIENT_TIMEOUT without a byte


def test_a_slow_body_that_completes_is_served(served):
    body = b'{"channel":"deploy","uid":77}'
    head = b"POST /api/tokens.json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    with connect(served.port, "127.0.0.6") as sock:
        sock.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body))
        for byte in body:  # one byte per write, each well within CLIENT_TIMEOUT
            sock.sendall(bytes([byte]))
        answer = read_answer(sock)
    assert answer.status == 200
    assert answer.json()["uid"] == 77


def test_a_burst_of_2000_connections_loses_no_request(served):
    # gunicorn alone admits 256 connections at once; these clients keep theirs open, so it
    # would answer no more until they close.
    answered = token_burst(served.port, 2000)
    assert answered.count(False) == 0, f"{answered.count(False)} of 2000 got no 200 within 10 s"
