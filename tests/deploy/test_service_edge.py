"""The service's own edge (api/edge.py) over real HTTP, under gunicorn alone: no nginx in front."""

import email.utils
import time
from urllib.parse import urlsplit

import pytest

from tests.deploy.raw_http import exchange
from tests.servers import start_gunicorn

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    server = start_gunicorn(tmp_path_factory.mktemp("edge"), workers=1, threads=4)
    yield urlsplit(server.url).port
    assert server.stop() == 0, server.log()


CHUNKED = (
    b"POST /api/tokens.json HTTP/1.1\r\nHost: localhost\r\n"
    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def chunks(body: bytes, size: int = 1000) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def test_a_chunked_body_over_the_limit_is_413_json(port):
    answer = exchange(port, CHUNKED + chunks(b"{" + b" " * 16384 + b"}"))
    assert answer.status == 413
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": {"code": "payload_too_large", "message": "The request body is larger than 16384 bytes."}
    }


def test_a_chunked_body_within_the_limit_is_served(port):
    answer = exchange(port, CHUNKED + chunks(b'{"channel": "edge", "uid": 5}' + b" " * 3000))
    assert answer.status == 200
    assert answer.json()["uid"] == 5


def test_http_1_1_without_host_is_400_json(port):
    answer = exchange(port, b"GET /healthz HTTP/1.1\r\n\r\n")
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["code"] == "bad_request"
    assert "Host" in answer.json()["error"]["message"]


def test_http_1_0_without_host_is_served(port):
    answer = exchange(port, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert answer.status == 200
    assert answer.json()["status"] == "ok"


def test_a_body_over_the_limit_by_its_length_is_413_json(port):
    body = b'{"channel": "edge", "uid": 5, "pad": "' + b"x" * 16384 + b'"}'
    head = b"POST /api/tokens.json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    answer = exchange(port, head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert answer.status == 413
    assert answer.json()["error"] == {
        "code": "payload_too_large",
        "message": "The request body is larger than 16384 bytes.",
    }


def test_a_body_of_exactly_the_limit_is_read_whole(port):
    encoded = b'{"channel": "edge", "uid": 6}'
    body = encoded + b" " * (16384 - len(encoded))
    head = b"POST /api/tokens.json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    answer = exchange(port, head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert answer.status == 200, answer.body
    assert answer.json()["uid"] == 6


def test_answers_carry_the_current_date(port):
    before = time.time()
    dates = [exchange(port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").headers["date"] for _ in range(3)]
    after = time.time()
    for date in dates:
        assert date.endswith(" GMT")
        assert int(before) <= email.utils.parsedate_to_datetime(date).timestamp() <= after
