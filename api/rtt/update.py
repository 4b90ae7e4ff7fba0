"""POST /api/rtt/update.json: change a running task's languages, translation or audio, without a restart.

Agora's update wants a strictly increasing `sequenceId` and >= 5 s after the join and between
updates. Both come from the shared store, so they hold across workers and machines. A call
inside the gap is answered 429 `update_too_soon` with Retry-After rather than made to wait:
no request thread sleeps, and the client decides whether to retry.
"""

from __future__ import annotations

import math

from flask import Blueprint, Response, current_app

from api.errors import ApiError, invalid_field
from api.policy import api_route
from api.rtt import agent_url, call_rtt, hold_updates
from api.rtt.options import update_fields
from api.validation import channel_field, read_json_object, task_id_field
from utils.send_response import send_successful_response

bp = Blueprint("rtt_update", __name__)
POLICY = api_route("rtt")


@bp.post("/api/rtt/update.json")
def post() -> Response:
    """{taskId | channel, languages?, uidLanguagesConfig?, translate?, subscribeAudioUids?, unSubscribeAudioUids?}
    -> {taskId, status, createTs, sequenceId, updateMask}."""
    body = read_json_object()
    task_id = _task_of(body)
    update, mask = update_fields(body)

    wait = hold_updates(task_id)
    if wait > 0:
        seconds = math.ceil(wait)
        raise ApiError(
            429,
            "update_too_soon",
            f"Agora takes an update only 5 s after the start and after the previous update; retry in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )
    sequence_id = current_app.extensions["state"].next_sequence_id(task_id)
    params = {"sequenceId": sequence_id, "updateMask": ",".join(mask)}
    data = call_rtt("POST", agent_url(task_id, "/update"), update, task_id=task_id, params=params)

    return send_successful_response(
        {
            "taskId": task_id,
            "status": data.get("status") or "RUNNING",
            "createTs": data.get("create_ts"),
            "sequenceId": sequence_id,
            "updateMask": mask,
        }
    )


def _task_of(body: dict) -> str:
    """`taskId`, or the running task of `channel` in the task registry."""
    if "taskId" in body:
        if "channel" in body:
            raise invalid_field("channel", "give taskId or channel, not both")
        return task_id_field(body)
    if "channel" not in body:
        raise invalid_field("taskId", "taskId is required (or channel, for the task running in it)")
    channel = channel_field(body)
    task = current_app.extensions["state"].task_for_channel(channel)
    if task is None:
        raise ApiError(
            404, "task_not_found", f"No transcription task is running in channel {channel!r}.", field="channel"
        )
    return task.task_id
