"""Raw HTTP over one socket: requests a normal client library would not send, from any loopback address."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def connect(port: int, source: str = "127.0.0.1", timeout: float = 10.0) -> socket.socket:
    """A connection from `source` (any 127.x.y.z is this machine: a different client address for nginx)."""
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def read_answer(sock: socket.socket) -> Answer:
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()
    return Answer(response.status, {key.lower(): value for key, value in response.getheaders()}, body)


def exchange(port: int, data: bytes, source: str = "127.0.0.1") -> Answer:
    with connect(port, source) as sock:
        sock.sendall(data)
        return read_answer(sock)


def closed_by_peer(sock: socket.socket) -> bool:
    """Whether the server closed (or reset) this connection without answering; waits for it."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def token_request(extra_headers: bytes = b"", close: bool = False) -> bytes:
    body = b'{"channel":"deploy","uid":1234}'
    return (
        b"POST /api/tokens.json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + (b"Connection: close\r\n" if close else b"")
        + extra_headers
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )
