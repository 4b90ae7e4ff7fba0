"""POST /api/rtt/start.json: start live transcription in a channel (the guide's start.json.ts).

One agent per channel: Agora bills every agent, and two joins for a channel within a second
make two. The first start claims the channel in the shared store and joins; a start that
finds the channel's task running answers it (`alreadyRunning`), and one that finds a join
under way waits for its outcome.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import Blueprint, Response, current_app

from api.errors import ApiError
from api.metrics import count_task
from api.policy import api_route
from api.rtt import call_rtt, hold_updates, rtt_url
from api.rtt.agents import adopt_from_agora, claim_lease_seconds, store
from api.rtt.options import join_options, merge_join_options
from api.rtt.speakers import keep_channel_names
from api.validation import channel_field, languages_field, max_idle_time_field, read_json_object
from state import Claim, Task
from utils.generate_resource import generate_speech_to_text_resource
from utils.make_request import require_field
from utils.send_response import send_successful_response

bp = Blueprint("rtt_start", __name__)
POLICY = api_route("rtt")

# How often a start that waits on another's join looks for its task: small next to a join's
# latency. Every CLAIM_RETRY_POLLS looks it also tries the claim (a write) again.
WAIT_POLL_SECONDS = 0.025
CLAIM_RETRY_POLLS = 10


@bp.post("/api/rtt/start.json")
@bp.post("/api/transcription/start.json")  # the path of the Astro original and its demo
def post() -> Response:
    """{channel, languages?, maxIdleTime?} -> {taskId, status, createTs, channel, pubBotUid, subBotUid, alreadyRunning}.

    The same task for every start of a channel while it runs (alreadyRunning true, no Agora call).
    """
    body = read_json_object()
    channel = channel_field(body)
    languages = languages_field(body)
    max_idle_time = max_idle_time_field(body)
    join_options(body, current_app.config)  # every other 7.x option (api/rtt/options.py): a 400 before any claim

    owner = uuid.uuid4().hex
    claim = _claim_or_wait(channel, owner)
    if claim.task is not None:
        return _answer(claim.task, already_running=True)
    try:
        # The last claim ended without an outcome (a crash mid-join, a timeout): Agora may run
        # an agent that nobody recorded; adopt it rather than bill a second one.
        adopted = adopt_from_agora(channel, owner) if claim.stale_since is not None else None
        if adopted is not None:
            return _answer(adopted, already_running=True)
        task = _join(body, channel, languages, max_idle_time)
    except ApiError as exc:
        # A timeout may hide an agent that did start: the next start asks Agora's list first.
        store().release_claim(channel, owner, outcome_unknown=exc.status == 504)
        raise
    except BaseException:
        store().release_claim(channel, owner, outcome_unknown=True)
        raise
    recorded = store().record_task(task, owner)
    keep_channel_names(recorded)  # names given before captions started name this task's speakers too
    hold_updates(recorded.task_id)  # Agora wants 5 s between the join and the first update
    return _answer(recorded, already_running=recorded.task_id != task.task_id)


def _claim_or_wait(channel: str, owner: str) -> Claim:
    """The channel's running task, or the claim to start one, after waiting out a join under way.

    While another start joins, its task is watched for with a cheap read; the claim is tried
    again less often, to notice a join that failed (its claim freed) or a holder that died.
    """
    lease = claim_lease_seconds()
    deadline = time.monotonic() + lease + 1.0  # by then the holder's claim has expired: it can be taken
    claim = store().claim_channel(channel, owner, lease)
    polls = 0
    while claim.held_by_another:
        if time.monotonic() > deadline:
            raise ApiError(
                503,
                "start_in_progress",
                f"Another start for channel {channel!r} is still waiting on Agora; retry after Retry-After.",
                field="channel",
                headers={"Retry-After": "2"},
            )
        time.sleep(WAIT_POLL_SECONDS)
        polls += 1
        task = store().task_for_channel(channel)
        if task is not None:
            claim = Claim(task=task)
        elif polls % CLAIM_RETRY_POLLS == 0:
            claim = store().claim_channel(channel, owner, lease)
    return claim


def _join(body: dict[str, Any], channel: str, languages: list[str], max_idle_time: int) -> Task:
    resource = generate_speech_to_text_resource(channel)
    payload = {
        "name": resource.name,
        "languages": languages,
        "maxIdleTime": max_idle_time,
        "rtcConfig": {
            "channelName": channel,
            # The 7.x join reference calls subBotUid deprecated, while its quickstart and
            # examples still send both bots with distinct uids; sending both works either way.
            "subBotUid": str(resource.sub_bot_uid),
            "subBotToken": resource.sub_bot_token,
            "pubBotUid": str(resource.pub_bot_uid),
            "pubBotToken": resource.pub_bot_token,
        },
    }
    options = join_options(body, current_app.config)
    data = call_rtt("POST", rtt_url("/join"), merge_join_options(payload, options))

    return Task(
        task_id=str(require_field(data, "agent_id")),
        channel=channel,
        status=data.get("status") or "STARTING",
        create_ts=int(data.get("create_ts") or time.time()),
        pub_bot_uid=resource.pub_bot_uid,
        sub_bot_uid=resource.sub_bot_uid,
        languages=list(languages),
        records_captions="captionConfig" in options,
    )


def _answer(task: Task, *, already_running: bool) -> Response:
    count_task("already_running" if already_running else "started")
    return send_successful_response(
        {
            "taskId": task.task_id,
            "status": task.status,
            "createTs": task.create_ts,
            "channel": task.channel,
            "pubBotUid": task.pub_bot_uid,
            "subBotUid": task.sub_bot_uid,
            "alreadyRunning": already_running,
        }
    )
