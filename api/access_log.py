"""gunicorn's access log, one line per request, with the worker pid and the request id.

Used by gunicorn.conf.py as its logger_class. The line:
    <client> "<method> <path> <protocol>" <status> <bytes> <ms>ms pid=<pid> request_id=<id>
A user who sets gunicorn's own `--access-logformat` (access_log_format) gets gunicorn's line
in that format instead, written by gunicorn as usual.
"""

from __future__ import annotations

import atexit
import collections
import os
import threading
import time
import traceback

from gunicorn.config import AccessLogFormat
from gunicorn.glogging import Logger

from api.request_id import ENVIRON_KEY

_DEFAULT_FORMAT = AccessLogFormat.default


class AccessLogger(Logger):
    """gunicorn's Logger with a cheap, buffered access log.

    gunicorn's own access() builds a dict of every header and environ variable of the request,
    then writes and flushes one log record; with many threads they also queue on the
    handler's lock (bench/RESULTS.md, "What profiling changed").
    Here a request only formats its line and queues it; a thread per worker writes the queued
    lines as one record every FLUSH_SECONDS (as nginx's `access_log ... buffer= flush=` does),
    and at exit. A worker killed with SIGKILL loses at most that much of its access log.
    """

    FLUSH_SECONDS = 0.25

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        self._pending: collections.deque[str] = collections.deque()
        self._writer_pid: int | None = None
        self._start_lock = threading.Lock()

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        if self.cfg.access_log_format != _DEFAULT_FORMAT:  # the user asked for their own line: theirs it is
            super().access(resp, req, environ, request_time)
            return
        if self._writer_pid != os.getpid():  # first line in this (forked) worker
            self._start_writer()
        request_id = environ.get(ENVIRON_KEY, "-")  # the same dict the request id middleware saw
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        milliseconds = request_time.seconds * 1000 + request_time.microseconds // 1000
        self._pending.append(
            f'{environ.get("REMOTE_ADDR", "-")} "{environ.get("REQUEST_METHOD", "-")} {environ.get("RAW_URI", "-")} '
            f'{environ.get("SERVER_PROTOCOL", "-")}" {status} {resp.sent if resp.sent is not None else "-"} '
            f"{milliseconds}ms pid={self._writer_pid} request_id={request_id}"
        )

    def flush_access_log(self) -> None:
        lines = []
        while self._pending:  # popleft is atomic: a line queued meanwhile waits for the next flush
            lines.append(self._pending.popleft())
        if lines:
            try:
                self.access_log.info("\n".join(lines))
            except Exception:
                self.error(traceback.format_exc())

    def _start_writer(self) -> None:
        with self._start_lock:
            if self._writer_pid == os.getpid():
                return
            self._writer_pid = os.getpid()
            threading.Thread(target=self._write_forever, name="access-log", daemon=True).start()
            atexit.register(self.flush_access_log)

    def _write_forever(self) -> None:
        while True:
            time.sleep(self.FLUSH_SECONDS)
            self.flush_access_log()
