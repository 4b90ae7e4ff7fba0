"""POST /api/rtt/update.json: change a running task's languages, translation or audio, without a restart.

Agora's update wants a strictly increasing `sequenceId` and >= 5 s after the join and between
updates. Both come from the shared store, so they hold across workers and machines. A call
inside the gap is answered 429 `update_too_soon` with Retry-After rather than made to wait:
no request thread sleeps, and the client decides whether to retry.
"""

from __future__ import annotations

import math

from flask import Blueprint, Response, current_app

from api.errors import ApiError
from api.policy import api_route
from api.rtt import agent_url, call_rtt, hold_updates, updated
from api.rtt.agents import note_gone, target_of
from api.rtt.options import update_fields
from api.validation import channel_field, read_json_object
from utils.send_response import send_successful_response

bp = Blueprint("rtt_update", __name__)
POLICY = api_route("rtt")


@bp.post("/api/rtt/update.json")
def post() -> Response:
    """{taskId | channel, languages?, uidLanguagesConfig?, translate?, subscribeAudioUids?, unSubscribeAudioUids?}
    -> {taskId, status, createTs, sequenceId, updateMask}."""
    body = read_json_object()
    if "channel" in body:
        channel_field(body)  # a malformed channel is refused even beside a taskId, as the contract says
    task_id = target_of(body).task_id
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
    try:
        data = call_rtt("POST", agent_url(task_id, "/update"), update, task_id=task_id, params=params)
    except ApiError as exc:
        if exc.code == "task_not_found":
            note_gone(task_id)
        raise
    updated(task_id)

    return send_successful_response(
        {
            "taskId": task_id,
            "status": data.get("status") or "RUNNING",
            "createTs": data.get("create_ts"),
            "sequenceId": sequence_id,
            "updateMask": mask,
        }
    )
