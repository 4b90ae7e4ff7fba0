"""GET /api/rtt/tasks.json: the transcription tasks running now, reconciled with Agora's list."""

from __future__ import annotations

from flask import Blueprint, Response

from api.policy import api_route
from api.rtt.agents import reconcile_with_agora
from utils.send_response import send_successful_response

bp = Blueprint("rtt_tasks", __name__)
POLICY = api_route("rtt")


@bp.get("/api/rtt/tasks.json")
def get() -> Response:
    """{tasks: [{taskId, channel, status, createTs}]}, after one call to Agora's list.

    Tasks Agora no longer runs are ended; agents it runs that a crashed start left unrecorded
    are adopted into their channel. One that cannot be tied to a channel is listed with channel
    null, so that it can still be stopped by taskId.
    """
    tasks = reconcile_with_agora()
    return send_successful_response(
        {
            "tasks": [
                {
                    "taskId": task.task_id,
                    "channel": task.channel or None,
                    "status": task.status,
                    "createTs": task.create_ts,
                }
                for task in tasks
            ]
        }
    )
