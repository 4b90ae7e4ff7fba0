"""POST /api/rtt/stop.json: stop a transcription task (the guide's stop.json.ts).

7.x replaced the guide's DELETE /tasks/{id}?builderToken=... with POST /agents/{id}/leave.
"""

from __future__ import annotations

from flask import Blueprint, Response

from api.policy import api_route
from api.rtt import agent_url, call_rtt
from api.validation import read_json_object, task_id_field
from utils.send_response import send_successful_response

bp = Blueprint("rtt_stop", __name__)
POLICY = api_route("rtt")


@bp.post("/api/rtt/stop.json")
@bp.post("/api/transcription/stop.json")  # the path of the Astro original and its demo
def post() -> Response:
    """{taskId} -> {taskId, status}. Unknown or already stopped: 404 task_not_found."""
    task_id = task_id_field(read_json_object())

    # Agora documents no body for leave; an empty answer is success.
    data = call_rtt("POST", agent_url(task_id, "/leave"), task_id=task_id)

    return send_successful_response({"taskId": task_id, "status": data.get("status") or "STOPPED"})
