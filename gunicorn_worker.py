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

And some of gunicorn's costs per request, each a few µs (bench/RESULTS.md, experiments 17
and 28; the last three below were 7.5 % of a token request): it writes an answer's headers
and its body in two sends (nearly every answer here is one JSON body of known length: this
worker sends those in one); it formats the Date header for every answer (here once a second, as nginx does); it
parses the peer's address with `ipaddress` on every request to decide whether its forwarded
headers count (here once per address); and it looks up its error logger to build a
`wsgi.errors` for every request (here when the app first writes to it, which Flask never does:
it logs through logging).
"""

from __future__ import annotations

import functools
import time

import gevent
from gevent.server import StreamServer
from gunicorn import util
from gunicorn.http import message, parser, wsgi
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


_format_http_date = util.http_date
_date_of_second = functools.lru_cache(maxsize=1)(_format_http_date)  # the Date text of the last second asked


def _http_date(timestamp: float | None = None) -> str:
    """gunicorn's http_date, formatted once per second for the answers' Date header."""
    if timestamp is not None:
        return _format_http_date(timestamp)
    return _date_of_second(int(time.time()))


class _Request(message.Request):
    """gunicorn's request, with forwarded_allow_ips' verdict on each peer address remembered."""

    _verdicts: dict[str, bool] = {}  # one worker's, for its configuration (a reload makes new workers)
    MAX_VERDICTS = 1024

    def _peer_is_trusted_proxy(self) -> bool:
        peer = self.peer_addr
        if not isinstance(peer, tuple):
            return super()._peer_is_trusted_proxy()  # a unix socket's peer: nothing to parse
        verdict = self._verdicts.get(peer[0])
        if verdict is None:
            if len(self._verdicts) >= self.MAX_VERDICTS:
                self._verdicts.clear()  # many clients: start again rather than grow without end
            verdict = self._verdicts[peer[0]] = super()._peer_is_trusted_proxy()
        return verdict


_GunicornErrors = wsgi.WSGIErrorsWrapper  # kept: run() replaces the module's name with the class below


class _ErrorsOnDemand(_GunicornErrors):
    """gunicorn's wsgi.errors, finding its error log's streams when first written to."""

    def __init__(self, cfg) -> None:  # RawIOBase has no __init__ to call, as in gunicorn's
        self._cfg = cfg

    @functools.cached_property
    def streams(self) -> list:
        return _GunicornErrors(self._cfg).streams


class GeventWorker(ggevent.GeventWorker):
    def run(self) -> None:
        # The names gunicorn builds with, replaced in this worker's process only: its servers
        # (run()), every answer (wsgi.create()) and its Date (default_headers()), every request
        # (the parser) and its wsgi.errors (base_environ()).
        if self.cfg.reuse_port:
            ggevent.StreamServer = _AcceptWhatIsWaiting
        wsgi.Response = _OneSendResponse
        util.http_date = _http_date
        parser.RequestParser.mesg_class = _Request
        wsgi.WSGIErrorsWrapper = _ErrorsOnDemand
        super().run()

    _quitting = False

    def handle_quit(self, sig, frame) -> None:
        # Ctrl+C reaches a worker twice: from the terminal (the whole foreground group) and
        # from the master. A second exit raised while the first unwinds printed a traceback.
        if not self._quitting:
            self._quitting = True
            super().handle_quit(sig, frame)

    def handle_request(self, listener_name, req, sock, addr):
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            gevent.sleep(0)  # let the other connections' requests run before this one's next
