"""gunicorn_worker.py's answer writer: a body written whole leaves in one send with its headers.

Requests are parsed by gunicorn's own parser; the socket records what each send carried.
The worker's fairness and accept habits are measured in bench/ and exercised by every test
that talks to gunicorn.
"""

from __future__ import annotations

import pytest
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

from gunicorn_worker import _OneSendResponse


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
