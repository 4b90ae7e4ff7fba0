"""POST /api/rtt/stop.json: stop a transcription task (the guide's stop.json.ts).

7.x replaced the guide's DELETE /tasks/{id}?builderToken=... with POST /agents/{id}/leave.
"""

from __future__ import annotations

from flask import Blueprint, Response

from api.errors import ApiError
from api.policy import api_route
from api.rtt import agent_url, call_rtt
from api.rtt.agents import end_task, note_gone, target_of
from api.validation import read_json_object
from utils.send_response import send_successful_response

bp = Blueprint("rtt_stop", __name__)
POLICY = api_route("rtt")


@bp.post("/api/rtt/stop.json")
@bp.post("/api/transcription/stop.json")  # the path of the Astro original and its demo
def post() -> Response:
    """{taskId} or {channel} -> {taskId, status, channel?}. Unknown or already stopped: 404 task_not_found.

    Either way the channel is free afterwards: the next start makes a new agent.
    """
    target = target_of(read_json_object())
    try:
        # Agora documents no body for leave; an empty answer is success.
        data = call_rtt("POST", agent_url(target.task_id, "/leave"), task_id=target.task_id)
    except ApiError as exc:
        if exc.code == "task_not_found":
            note_gone(target.task_id)
        raise

    task = end_task(target.task_id, status="STOPPED", reason="stopped")
    answer = {"taskId": target.task_id, "status": data.get("status") or "STOPPED"}
    if task is not None:
        answer["channel"] = task.channel
    return send_successful_response(answer)
