"""Raw HTTP over one socket: requests a normal client library would not send, from any loopback address."""

from __future__ import annotations

import asyncio
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


class _Countdown:
    def __init__(self, count: int) -> None:
        self.left, self.event = count, asyncio.Event()

    def count_down(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.event.set()


async def _one_token(port: int, answered: _Countdown, timeout: float) -> bool:
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(token_request())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        body = await asyncio.wait_for(reader.readexactly(length), timeout)
        ok = head.startswith(b"HTTP/1.1 200 ") and json.loads(body)["channel"] == "deploy"
    except (OSError, TimeoutError, asyncio.IncompleteReadError, IndexError, ValueError):
        ok = False
    answered.count_down()
    await answered.event.wait()
    if writer is not None:
        writer.close()
    return ok


def token_burst(port: int, connections: int, timeout: float = 10.0) -> list[bool]:
    """`connections` clients at once, each a token request on a keep-alive connection that it
    holds open (as a browser would) until every client has its answer: whether each got a 200
    within `timeout`."""

    async def everyone() -> list[bool]:
        answered = _Countdown(connections)
        return await asyncio.gather(*(_one_token(port, answered, timeout) for _ in range(connections)))

    return asyncio.run(everyone())
