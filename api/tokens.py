"""POST /api/tokens.json: a token for one user in one channel (the guide's token.json.ts)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from api.policy import api_route
from api.validation import (
    channel_field,
    expire_time_field,
    read_json_object,
    role_field,
    rtm_user_id_field,
    services_field,
    speaker_name_field,
    token_version_field,
    uid_field,
)
from utils.generate_token import GeneratedToken, generate_token
from utils.send_response import send_successful_response

bp = Blueprint("tokens", __name__)
POLICY = api_route("tokens")


@bp.post("/api/tokens.json")
@bp.post("/api/token.json")  # the path of the Astro original and its demo
def post() -> Response:
    """Mint a token: {channel, uid, role?, expireTime?, version?, services?, rtmUserId?} -> {token, ...}."""
    body = read_json_object()
    channel = channel_field(body)
    uid = uid_field(body)
    role = role_field(body)
    expire_time = expire_time_field(body)
    version = token_version_field(body, current_app.config["TOKEN_VERSION"])
    services = services_field(body, version)
    rtm_user_id = rtm_user_id_field(body, services, uid)
    name = speaker_name_field(body, uid)

    generated = handle_generate_token(channel, role, uid, expire_time, version=version, rtm_user_id=rtm_user_id)
    answer: dict[str, Any] = {
        "token": generated.token,
        "channel": channel,
        "uid": uid,
        "role": role,
        "expiresAt": generated.expires_at,
        "appId": current_app.config["APP_ID"],
        "version": generated.version,
    }
    if version == "007":  # a 006 token has no services to list
        answer["services"] = services
    if rtm_user_id is not None:
        answer["rtmUserId"] = rtm_user_id
    if name is not None:  # captions and transcripts show it instead of the uid
        from api.rtt.speakers import remember_speaker

        remember_speaker(channel, uid, name, expire_time)
        answer["name"] = name
    return send_successful_response(answer)


def handle_generate_token(
    channel: str,
    role: str,
    uid: int,
    expire_time: int,
    *,
    version: str | None = None,
    rtm_user_id: str | None = None,
) -> GeneratedToken:
    """A token for `uid` in `channel`, valid for `expire_time` seconds, signed with this project's certificate.

    `version` defaults to the server's TOKEN_VERSION; `rtm_user_id` adds Signaling login (007 only).
    """
    config = current_app.config
    return generate_token(
        config["APP_ID"],
        config["APP_CERTIFICATE"],
        channel,
        uid,
        role,
        expire_time,
        version=version or config["TOKEN_VERSION"],
        rtm_user_id=rtm_user_id,
    )
