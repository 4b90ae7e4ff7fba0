"""POST /api/rtt/start.json: start live transcription in a channel (the guide's start.json.ts)."""

from __future__ import annotations

import time

from flask import Blueprint, Response

from api.policy import api_route
from api.rtt import call_rtt, rtt_url
from api.validation import channel_field, languages_field, max_idle_time_field, read_json_object
from utils.generate_resource import generate_speech_to_text_resource
from utils.make_request import require_field
from utils.send_response import send_successful_response

bp = Blueprint("rtt_start", __name__)
POLICY = api_route("rtt")


@bp.post("/api/rtt/start.json")
@bp.post("/api/transcription/start.json")  # the path of the Astro original and its demo
def post() -> Response:
    """{channel, languages?, maxIdleTime?} -> {taskId, status, createTs, channel, pubBotUid, subBotUid}."""
    body = read_json_object()
    channel = channel_field(body)
    languages = languages_field(body)
    max_idle_time = max_idle_time_field(body)

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
    data = call_rtt("POST", rtt_url("/join"), payload)

    return send_successful_response(
        {
            "taskId": require_field(data, "agent_id"),
            "status": data.get("status") or "STARTING",
            "createTs": data.get("create_ts") or int(time.time()),
            "channel": channel,
            "pubBotUid": resource.pub_bot_uid,
            "subBotUid": resource.sub_bot_uid,
        }
    )
