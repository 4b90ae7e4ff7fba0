"""The worker class gunicorn.conf.py ships: gunicorn's gevent worker, fair to every connection.

gunicorn's gevent worker has two habits that cost the service its tail latency (measured in
bench/RESULTS.md, "The gevent worker, fixed"):

- A greenlet runs until it blocks. A keep-alive client that sends its next request as soon
  as it has the answer never lets it block, so a few connections can hold the worker while
  the others wait a second. This worker yields after every answer: connections take turns.
- With more than one worker it accepts one connection per turn of the event loop, so that
  workers sharing a listening socket share a burst. A busy loop turns every 20-30 ms, and a
  burst of new connections then waits seconds to be accepted. With `reuse_port` each worker
  listens on a socket of its own (the kernel spreads connections between them), so a worker
  takes every connection waiting on its socket.

And one of its costs: it writes an answer's headers and its body in two sends. Nearly every
answer here is one JSON body of known length; this worker sends those in one.
"""

from __future__ import annotations

import gevent
from gevent.server import StreamServer
from gunicorn.http import wsgi
from gunicorn.workers import ggevent


class _AcceptWhatIsWaiting(StreamServer):
    """A StreamServer that ignores gunicorn's `max_accept = 1`: its socket is its own."""

    @property
    def max_accept(self) -> int:
        return StreamServer.max_accept

    @max_accept.setter
    def max_accept(self, value: int) -> None:
        pass


class _Collected:
    """Stands in for the socket while gunicorn writes an answer: keeps what it sends."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.parts.append(data)


class _OneSendResponse(wsgi.Response):
    """gunicorn's Response, but a body written whole goes out in the same send as its headers."""

    def write(self, arg: bytes) -> None:
        whole = not self.headers_sent and not self.chunked and self.response_length == len(arg)
        if not whole:
            super().write(arg)
            return
        sock, collected = self.sock, _Collected()
        self.sock = collected  # gunicorn's own write: its checks and bookkeeping, its header bytes
        try:
            super().write(arg)
        finally:
            self.sock = sock
        data = b"".join(collected.parts)
        # An answer this size fits the socket's buffer: one send, without gevent's sendall and
        # its per-call getsockopt (5 µs against 2 µs); sendall only for what did not fit.
        sent = sock.send(data)
        if sent < len(data):
            sock.sendall(memoryview(data)[sent:])


class GeventWorker(ggevent.GeventWorker):
    def run(self) -> None:
        if self.cfg.reuse_port:
            ggevent.StreamServer = _AcceptWhatIsWaiting  # the name gunicorn's run() builds its servers with
        wsgi.Response = _OneSendResponse  # the name wsgi.create() builds every answer with
        super().run()

    def handle_request(self, listener_name, req, sock, addr):
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            gevent.sleep(0)  # let the other connections' requests run before this one's next
