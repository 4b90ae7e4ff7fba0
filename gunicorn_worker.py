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
"""

from __future__ import annotations

import gevent
from gevent.server import StreamServer
from gunicorn.workers import ggevent


class _AcceptWhatIsWaiting(StreamServer):
    """A StreamServer that ignores gunicorn's `max_accept = 1`: its socket is its own."""

    @property
    def max_accept(self) -> int:
        return StreamServer.max_accept

    @max_accept.setter
    def max_accept(self, value: int) -> None:
        pass


class GeventWorker(ggevent.GeventWorker):
    def run(self) -> None:
        if self.cfg.reuse_port:
            ggevent.StreamServer = _AcceptWhatIsWaiting  # the name gunicorn's run() builds its servers with
        super().run()

    def handle_request(self, listener_name, req, sock, addr):
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            gevent.sleep(0)  # let the other connections' requests run before this one's next
