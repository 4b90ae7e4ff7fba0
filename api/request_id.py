"""X-Request-ID: accepted from the client or generated, returned, and put on every log line.

A WSGI middleware rather than Flask hooks: it sees every response (errors included) and costs
a dictionary lookup, far less than a before/after_request pair (bench/RESULTS.md, "What
profiling changed").
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, has_request_context, request
from flask.logging import default_handler

HEADER = "X-Request-ID"
ENVIRON_KEY = "api.request_id"
# A proxy's id is reused only if it is short and plain: it ends up in logs and headers.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _IdSource:
    """Unique ids without a system call per request: a random prefix per process, then a counter.

    uuid4 reads the kernel's random source on every call, a cost a token request need not pay.
    """

    def __init__(self) -> None:
        self.reset()
        os.register_at_fork(after_in_child=self.reset)  # a forked worker must not repeat its parent's ids

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"  # next() on a count is atomic under the GIL


new_request_id = _IdSource().next


class RequestIdMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _ACCEPTED.fullmatch(incoming) else new_request_id()
        environ[ENVIRON_KEY] = request_id

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append((HEADER, request_id))  # the app never sets it: this is its one place
            return start_response(status, headers, exc_info)

        return self.app(environ, start_with_id)


def current_request_id() -> str:
    """The id of the request being handled, or "-" outside one."""
    return request.environ.get(ENVIRON_KEY, "-") if has_request_context() else "-"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


def init_app(app: Flask) -> None:
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    _configure_logging(app)


def _configure_logging(app: Flask) -> None:
    """One stderr handler on the `api` and `sandbox` loggers, replaced (not added) per app."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler.set_name("request-id")
    for name in ("api", "sandbox"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h is default_handler or h.get_name() == "request-id"]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(app.config["LOG_LEVEL"])
