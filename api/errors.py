"""The error model: every failure becomes {"error": {"code", "message", "field"?}} JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from api.request_id import current_request_id
from utils.make_request import AgoraError
from utils.send_response import send_error

# Codes for the HTTP errors Flask and Werkzeug raise themselves.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class ApiError(Exception):
    """An error the client should see, with our status, code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})
        self.details = dict(details or {})

    def to_response(self) -> Response:
        return send_error(
            self.status, self.code, self.message, field=self.field, headers=self.headers, details=self.details
        )


def invalid_field(field: str, message: str) -> ApiError:
    """400 for one input field: `message` states the rule the value broke."""
    return ApiError(400, "invalid_field", message, field=field)


def from_agora_error(exc: AgoraError, *, task_id: str | None = None) -> ApiError:
    """Map an upstream failure to our status (conventions: "A failure upstream is not the client's fault").

    `task_id` is given by the calls that address one agent (query, stop): for them Agora's
    404 means the task is unknown or already gone.
    """
    details: dict[str, Any] = {}
    if exc.status is not None:
        details["agoraStatus"] = exc.status
    if exc.reason:
        details["agoraReason"] = exc.reason
    if exc.request_id:
        details["agoraRequestId"] = exc.request_id

    if exc.kind == "timeout":
        return ApiError(504, "agora_timeout", "Agora's API did not answer in time; try again.", details=details)
    if exc.kind in ("connection", "bad_response") or (exc.status or 0) >= 500:
        return ApiError(502, "agora_unavailable", f"Agora's API is unavailable: {exc.message}.", details=details)
    status = exc.status or 0
    if status in (401, 403):
        return ApiError(
            502,
            "agora_auth_failed",
            f"Agora refused our credentials ({status}): check CUSTOMER_ID and CUSTOMER_SECRET, "
            "and that Real-Time STT is enabled for APP_ID.",
            details=details,
        )
    if status == 404 and task_id is not None:
        return ApiError(
            404,
            "task_not_found",
            f"No running transcription task {task_id}: it is unknown or has already stopped.",
            field="taskId",
            details=details,
        )
    if status == 409:
        return ApiError(409, "agora_conflict", "Agora reports a conflict with a task that exists.", details=details)
    if status == 429:
        return ApiError(
            429,
            "agora_rate_limited",
            "Agora is rate limiting this project; retry after the time in Retry-After.",
            headers={"Retry-After": exc.retry_after or "1"},
            details=details,
        )
    return ApiError(502, "agora_rejected", f"Agora rejected the request ({status}).", details=details)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, lambda exc: exc.to_response())
    app.register_error_handler(AgoraError, _handle_agora_error)
    app.register_error_handler(HTTPException, _handle_http_exception)


def _handle_agora_error(exc: AgoraError) -> Response:
    return from_agora_error(exc).to_response()


def _handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    # Keep what the exception says in headers (Allow, Retry-After), not its HTML body's.
    headers = {
        key: value
        for key, value in exc.get_response().headers.items()
        if key.lower() not in ("content-type", "content-length")
    }
    if status >= 500:
        # Unhandled bugs arrive here as InternalServerError; Flask has already logged the traceback.
        message = f"Internal error; it has been logged with request id {current_request_id()}."
        return send_error(500, "internal_error", message)
    code = _HTTP_CODES.get(status, "http_error")
    message = _MESSAGES.get(status) or exc.description or exc.name
    if status == 413:
        message = f"The request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes."
    elif status == 405:
        message = f"{request.method} is not allowed here; allowed: {headers.get('Allow', 'none')}."
    return send_error(status, code, message, headers=headers)


_MESSAGES = {
    404: "No such endpoint. The API serves POST /api/tokens.json, /api/rtt/start.json, "
    "/api/rtt/query.json and /api/rtt/stop.json.",
    415: "The request body must be JSON, sent with Content-Type: application/json.",
}
