"""The service's own HTTP edge: requests gunicorn passes on that the app must still refuse, as JSON.

gunicorn hands a chunked body to the app without a length, so Flask's MAX_CONTENT_LENGTH check
cannot run before the body is read, and an HTTP/1.1 request without Host reaches the views.
Behind nginx neither arrives (nginx refuses both itself), but the service must not depend on it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from utils.send_response import send_error

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class EdgeMiddleware:
    """Refuses an HTTP/1.1 request without Host (400) and a chunked body over `max_body` (413)."""

    def __init__(self, app: WsgiApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # RFC 9112, 3.2: a server MUST answer 400 to an HTTP/1.1 request with no Host field (an
        # empty one is allowed: it means the target has no authority).
        if environ.get("SERVER_PROTOCOL") == "HTTP/1.1" and "HTTP_HOST" not in environ:
            message = "An HTTP/1.1 request must carry a Host header (RFC 9112, section 3.2)."
            return send_error(400, "bad_request", message)(environ, start_response)
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not environ.get("CONTENT_LENGTH"):
            # Read at most one byte past the limit: enough to know, never more memory than that.
            body = environ["wsgi.input"].read(self.max_body + 1)
            if len(body) > self.max_body:
                message = f"The request body is larger than {self.max_body} bytes."
                return send_error(413, "payload_too_large", message)(environ, start_response)
            # From here on the body is an ordinary one of known length, checked like any other.
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            del environ["HTTP_TRANSFER_ENCODING"]  # Werkzeug ignores Content-Length beside it
            environ.pop("wsgi.input_terminated", None)
        return self.app(environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = EdgeMiddleware(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
