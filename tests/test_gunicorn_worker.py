"""gunicorn_worker.py: one send per answer, and the per-request costs it pays once instead.

Requests are parsed by gunicorn's own parser; the socket records what each send carried.
The worker's fairness and accept habits are measured in bench/ and exercised by every test
that talks to gunicorn (tests/deploy/test_service_edge.py checks its answers' Date).
"""

from __future__ import annotations

import email.utils
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

import gunicorn_worker
from gunicorn_worker import _ErrorsOnDemand, _http_date, _OneSendResponse, _Request


class RecordingSocket:
    """Records each send; a send takes at most `room` bytes, as a full socket buffer would."""

    def __init__(self, room: int = 1 << 20) -> None:
        self.sends: list[bytes] = []
        self.room = room

    def send(self, data: bytes) -> int:
        taken = bytes(data[: self.room])
        self.sends.append(taken)
        return len(taken)

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))


def request(method: str = "GET") -> object:
    raw = f"{method} /api/tokens.json HTTP/1.1\r\nHost: example.test\r\n\r\n".encode()
    return next(RequestParser(Config(), iter([raw]), ("127.0.0.1", 5000)))


def answer(
    method: str, status: str, headers: list[tuple[str, str]], chunks: list[bytes], room: int = 1 << 20
) -> RecordingSocket:
    sock = RecordingSocket(room)
    response = _OneSendResponse(request(method), sock, Config())
    response.start_response(status, headers)
    for chunk in chunks:
        response.write(chunk)
    response.close()
    return sock


def split(sent: bytes) -> tuple[str, bytes]:
    head, _, body = sent.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def test_a_json_answer_is_one_send_of_headers_and_body():
    body = b'{"token":"007abc"}'
    sock = answer("GET", "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], [body])

    assert len(sock.sends) == 1
    head, sent_body = split(sock.sends[0])
    assert head.startswith("HTTP/1.1 200 OK\r\n")
    assert "Content-Length: 18" in head.split("\r\n")
    assert sent_body == body


def test_what_one_send_could_not_take_follows_whole():
    body = b"x" * 5000
    sock = answer("GET", "200 OK", [("Content-Length", str(len(body)))], [body], room=1000)

    assert len(sock.sends) == 2 and len(sock.sends[0]) == 1000
    head, sent_body = split(b"".join(sock.sends))
    assert head.startswith("HTTP/1.1 200 OK\r\n")
    assert sent_body == body


def test_a_body_in_several_writes_is_sent_as_written():
    chunks = [b"first,", b"second"]
    length = str(sum(map(len, chunks)))
    sock = answer("GET", "200 OK", [("Content-Length", length)], chunks)

    assert len(sock.sends) == 3  # headers, then each chunk: nothing held back while streaming
    assert split(sock.sends[0])[1] == b""
    assert sock.sends[1:] == chunks


def test_a_streamed_answer_without_length_stays_chunked():
    sock = answer("GET", "200 OK", [("Content-Type", "text/event-stream")], [b"data: 1\n\n"])

    joined = b"".join(sock.sends)
    head, body = split(joined)
    assert "Transfer-Encoding: chunked" in head
    assert body == b"9\r\ndata: 1\n\n\r\n0\r\n\r\n"


def test_head_sends_the_headers_and_never_the_body():
    sock = answer("HEAD", "200 OK", [("Content-Length", "5")], [b"hello"])

    assert len(sock.sends) == 1
    head, body = split(sock.sends[0])
    assert "Content-Length: 5" in head.split("\r\n")
    assert body == b""


def test_an_empty_answer_still_sends_its_headers():
    sock = answer("GET", "204 No Content", [], [])

    assert len(sock.sends) == 1
    assert sock.sends[0].startswith(b"HTTP/1.1 204 No Content\r\n")


def test_a_body_that_is_not_bytes_is_refused_as_gunicorn_refuses_it():
    sock = RecordingSocket()
    response = _OneSendResponse(request(), sock, Config())
    response.start_response("200 OK", [("Content-Length", "2")])

    with pytest.raises(TypeError):
        response.write("hi")  # type: ignore[arg-type]
    assert response.sock is sock  # the real socket is back for whatever gunicorn does next


def test_the_date_is_formatted_once_a_second(monkeypatch):
    now = [1_000_000.25]
    monkeypatch.setattr(gunicorn_worker, "time", SimpleNamespace(time=lambda: now[0]))
    assert _http_date() == "Mon, 12 Jan 1970 13:46:40 GMT" == email.utils.formatdate(1_000_000, usegmt=True)
    now[0] = 1_000_000.99
    assert _http_date() == "Mon, 12 Jan 1970 13:46:40 GMT"
    now[0] = 1_000_001.0
    assert _http_date() == "Mon, 12 Jan 1970 13:46:41 GMT"
    assert _http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"  # a time given is formatted, as gunicorn's does


class RememberingParser(RequestParser):
    mesg_class = _Request


def scheme_from(peer: tuple[str, int] | str, config: Config) -> str:
    raw = b"GET /healthz HTTP/1.1\r\nHost: example.test\r\nX-Forwarded-Proto: https\r\n\r\n"
    return next(RememberingParser(config, iter([raw]), peer)).scheme


@pytest.fixture
def verdicts(monkeypatch):
    monkeypatch.setattr(_Request, "_verdicts", {})
    return _Request._verdicts


def test_forwarded_headers_count_from_allowed_peers_only_and_the_verdict_is_kept(verdicts):
    config = Config()
    config.set("forwarded_allow_ips", "127.0.0.1,10.1.0.0/16")
    for _ in range(2):  # the second time from what the worker remembered
        assert scheme_from(("127.0.0.1", 5000), config) == "https"
        assert scheme_from(("10.1.2.3", 5000), config) == "https"
        assert scheme_from(("192.0.2.7", 5000), config) == "http"
    assert verdicts == {"127.0.0.1": True, "10.1.2.3": True, "192.0.2.7": False}


def test_the_remembered_verdicts_stay_bounded(verdicts, monkeypatch):
    monkeypatch.setattr(_Request, "MAX_VERDICTS", 8)
    config = Config()
    for n in range(30):
        assert scheme_from((f"192.0.2.{n}", 5000), config) == "http"
        assert len(verdicts) <= 8
    assert scheme_from(("127.0.0.1", 5000), config) == "https"


def test_wsgi_errors_reach_the_error_log_when_written(capsys):
    errors = _ErrorsOnDemand(Config())  # errorlog "-": standard error
    errors.write("a line for the error log\n")
    assert capsys.readouterr().err == "a line for the error log\n"
