"""GET /api/rtt/speakers.json: who is who in a channel, by the names given with their tokens.

A name comes with a token (POST /api/tokens.json, `name`) and is kept for the token's
lifetime in the channel, and with the channel's running task for as long as its transcript
(state/: put_speaker, keep_task_speakers), so that the transcript still names people after
their tokens expired.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, request

from api.policy import api_route
from api.rtt.agents import store
from api.validation import channel_field
from state import Task
from state.store import ENDED_TASK_SECONDS
from utils.send_response import send_successful_response

bp = Blueprint("rtt_speakers", __name__)
POLICY = api_route("rtt")


@bp.get("/api/rtt/speakers.json")
def get() -> Response:
    """?channel=... -> {uid: name} for the channel's named uids (uids as JSON keys, strings)."""
    channel = channel_field({"channel": request.args["channel"]} if "channel" in request.args else {})
    return send_successful_response({str(uid): name for uid, name in store().speakers(channel).items()})


def remember_speaker(channel: str, uid: int, name: str, token_seconds: int) -> None:
    """A name given with a token: the channel's for the token's lifetime, and its running task's."""
    registry = store()
    registry.put_speaker(channel, uid, name, token_seconds)
    task = registry.task_for_channel(channel)
    if task is not None:
        registry.keep_task_speakers(task.task_id, {uid: name}, ENDED_TASK_SECONDS)


def keep_channel_names(task: Task) -> None:
    """A task that starts takes the names already given in its channel."""
    registry = store()
    names = registry.speakers(task.channel)
    if names:  # none given (the usual start): nothing to keep, and no second round trip to the store
        registry.keep_task_speakers(task.task_id, names, ENDED_TASK_SECONDS)


def names_for(task: Task) -> dict[int, str]:
    """The names a task's transcript shows: its own, and while it runs, the channel's newest too.

    Reading them keeps them as long as the task itself is kept (ENDED_TASK_SECONDS after its end).
    """
    registry = store()
    if task.ended:
        left = task.ended_ts + ENDED_TASK_SECONDS - time.time()
        registry.keep_task_speakers(task.task_id, {}, max(1.0, left))
        return registry.task_speakers(task.task_id)
    return {**registry.speakers(task.channel), **registry.task_speakers(task.task_id)}
