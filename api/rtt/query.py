"""POST /api/rtt/query.json: the status of a transcription task, as Agora reports it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from api.errors import ApiError
from api.policy import api_route
from api.rtt import agent_url, call_rtt
from api.rtt.agents import note_gone, note_status, target_of
from api.validation import read_json_object
from state import Task
from utils.make_request import require_field
from utils.send_response import send_successful_response

bp = Blueprint("rtt_query", __name__)
POLICY = api_route("rtt")


@bp.post("/api/rtt/query.json")
@bp.post("/api/transcription/query.json")  # the path of the Astro original and its demo
def post() -> Response:
    """{taskId} or {channel} -> {taskId, status, createTs, channel?, message?, endedReason?}.

    What Agora says is written back: a task it reports gone is ended in the registry and its
    channel freed, so the next start makes a new agent. A task the registry knows has ended is
    answered from the registry. A builderToken from old clients is ignored.
    """
    target = target_of(read_json_object(), ended_too=True)
    if target.task is not None and target.task.ended:
        # An end is final (a leave, the cap, Agora's notification or an earlier query): the
        # registry answers, without asking Agora about an agent that is gone.
        return send_successful_response(_ended_answer(target.task))
    try:
        data = call_rtt("GET", agent_url(target.task_id), task_id=target.task_id)
    except ApiError as exc:
        if exc.code == "task_not_found":
            note_gone(target.task_id)
        raise

    status = str(require_field(data, "status"))
    task = note_status(target.task_id, status, data.get("message")) if target.task else None
    answer = {"taskId": target.task_id, "status": status, "createTs": data.get("create_ts")}
    if task is not None:
        answer["channel"] = task.channel
    if data.get("message"):
        answer["message"] = data["message"]
    if task is not None and task.ended:
        answer["endedReason"] = task.end_reason
    return send_successful_response(answer)


def _ended_answer(task: Task) -> dict[str, Any]:
    return {
        "taskId": task.task_id,
        "status": task.status,
        "createTs": task.create_ts,
        "channel": task.channel,
        "endedReason": task.end_reason,
    }
