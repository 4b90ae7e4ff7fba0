"""The service's own edge (api/edge.py) over real HTTP, under gunicorn alone: no nginx in front."""

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
