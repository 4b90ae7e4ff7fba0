"""X-Request-ID: accepted from the client or generated, returned, and put on every log line."""

from __future__ import annotations

import logging
import re
import sys
import uuid

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

HEADER = "X-Request-ID"
# A proxy's id is reused only if it is short and plain: it ends up in logs and headers.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to each record, "-" outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def init_app(app: Flask) -> None:
    app.before_request(_assign)
    app.after_request(_echo)
    _configure_logging(app)


def _assign() -> None:
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if _ACCEPTED.fullmatch(incoming) else uuid.uuid4().hex


def _echo(response: Response) -> Response:
    if "request_id" in g:
        response.headers[HEADER] = g.request_id
    return response


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
