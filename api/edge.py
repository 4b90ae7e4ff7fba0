"""The service's own HTTP edge: requests gunicorn passes on that the app must still refuse, as JSON.

gunicorn hands a chunked body to the app without a length, so Flask's MAX_CONTENT_LENGTH check
cannot run before the body is read, and an HTTP/1.1 request without Host reaches the views.
Behind nginx neither arrives (nginx refuses both itself), but the service must not depend on it.

The edge also checks a body's Content-Length against the limit itself. Where the server ends
the body at that length (it says so with `wsgi.input_terminated`, as gunicorn does), the app's
Request then reads it directly: Werkzeug would otherwise read every body through a second
limit, LimitedStream, which cost 3 % of a token request (bench/RESULTS.md, experiment 27).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

import flask
from flask import Flask

from utils.send_response import send_error

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
BODY_BOUNDED = "api.body_bounded"  # environ key: the edge has checked the length, the server ends the body there


class Request(flask.Request):
    """Flask's Request, without a second limit on a body the edge has bounded (BODY_BOUNDED).

    A view that sets `request.max_content_length` still gets its own limit applied.
    """

    _view_limit: int | None = None

    @property
    def max_content_length(self) -> int | None:
        if self._view_limit is not None:
            return self._view_limit
        if BODY_BOUNDED in self.environ:
            return None  # Werkzeug then reads the server's stream as it is
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._view_limit = value


class EdgeMiddleware:
    """Refuses an HTTP/1.1 request without Host (400) and a body over `max_body`, chunked or not (413)."""

    def __init__(self, app: WsgiApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # RFC 9112, 3.2: a server MUST answer 400 to an HTTP/1.1 request with no Host field (an
        # empty one is allowed: it means the target has no authority).
        if environ.get("SERVER_PROTOCOL") == "HTTP/1.1" and "HTTP_HOST" not in environ:
            message = "An HTTP/1.1 request must carry a Host header (RFC 9112, section 3.2)."
            return send_error(400, "bad_request", message)(environ, start_response)
        length = environ.get("CONTENT_LENGTH", "")
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            if not length and not self._buffer_chunked(environ):
                return self._too_large(environ, start_response)
        elif length.isascii() and length.isdigit() and "wsgi.input_terminated" in environ:
            if int(length) > self.max_body:
                return self._too_large(environ, start_response)
            environ[BODY_BOUNDED] = True
        return self.app(environ, start_response)

    def _buffer_chunked(self, environ: dict[str, Any]) -> bool:
        """Read a chunked body of no stated length into memory, if it is within the limit."""
        # Read at most one byte past the limit: enough to know, never more memory than that.
        body = environ["wsgi.input"].read(self.max_body + 1)
        if len(body) > self.max_body:
            return False
        # From here on the body is an ordinary one of known length, checked like any other.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        del environ["HTTP_TRANSFER_ENCODING"]  # Werkzeug ignores Content-Length beside it
        environ.pop("wsgi.input_terminated", None)
        return True

    def _too_large(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        message = f"The request body is larger than {self.max_body} bytes."  # as api/errors.py words Flask's 413
        return send_error(413, "payload_too_large", message)(environ, start_response)


def init_app(app: Flask) -> None:
    app.request_class = Request
    app.wsgi_app = EdgeMiddleware(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
