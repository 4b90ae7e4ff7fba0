"""The guide's sendResponse helpers: every answer of the API is JSON of one shape."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response

# Compact JSON, fields in the order given. One encoder built once: jsonify does the same work
# with a settings and debug lookup per call.
_to_json = json.JSONEncoder(separators=(",", ":")).encode


def send_successful_response(data: dict[str, Any], status: int = 200) -> Response:
    """Answer with `data` as JSON."""
    return Response(_to_json(data), status=status, mimetype="application/json")


def send_error(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    details: Mapping[str, Any] | None = None,
) -> Response:
    """Answer with the error shape: {"error": {"code", "message", "field"?, ...details}}."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    error.update(details or {})
    response = send_successful_response({"error": error}, status)
    response.headers.update(headers or {})
    return response
