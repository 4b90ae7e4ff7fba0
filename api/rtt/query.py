"""POST /api/rtt/query.json: the status of a transcription task, as Agora reports it."""

from __future__ import annotations

from flask import Blueprint, Response

from api.policy import api_route
from api.rtt import agent_url, call_rtt
from api.validation import read_json_object, task_id_field
from utils.make_request import require_field
from utils.send_response import send_successful_response

bp = Blueprint("rtt_query", __name__)
POLICY = api_route("rtt")


@bp.post("/api/rtt/query.json")
@bp.post("/api/transcription/query.json")  # the path of the Astro original and its demo
def post() -> Response:
    """{taskId} -> {taskId, status, createTs, message?}. A builderToken from old clients is ignored."""
    task_id = task_id_field(read_json_object())

    data = call_rtt("GET", agent_url(task_id), task_id=task_id)

    answer = {"taskId": task_id, "status": require_field(data, "status"), "createTs": data.get("create_ts")}
    if data.get("message"):
        answer["message"] = data["message"]
    return send_successful_response(answer)
