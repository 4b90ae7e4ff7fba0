"""POST /api/tokens.json: an RTC token for one user in one channel (the guide's token.json.ts)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from agora_token_builder.RtcTokenBuilder import Role_Publisher, Role_Subscriber, RtcTokenBuilder
from flask import Blueprint, Response, current_app

from api.policy import api_route
from api.validation import channel_field, expire_time_field, read_json_object, role_field, uid_field
from utils.send_response import send_successful_response

bp = Blueprint("tokens", __name__)
POLICY = api_route("tokens")

ROLES = {"publisher": Role_Publisher, "subscriber": Role_Subscriber}


@dataclass(frozen=True)
class GeneratedToken:
    token: str
    expires_at: int  # unix seconds


@bp.post("/api/tokens.json")
@bp.post("/api/token.json")  # the path of the Astro original and its demo
def post() -> Response:
    """Mint a token: {channel, uid, role?, expireTime?} -> {token, channel, uid, role, expiresAt}."""
    body = read_json_object()
    channel = channel_field(body)
    uid = uid_field(body)
    role = role_field(body)
    expire_time = expire_time_field(body)

    generated = handle_generate_token(channel, ROLES[role], uid, expire_time)
    return send_successful_response(
        {
            "token": generated.token,
            "channel": channel,
            "uid": uid,
            "role": role,
            "expiresAt": generated.expires_at,
            "appId": current_app.config["APP_ID"],
        }
    )


def handle_generate_token(channel: str, role: int, uid: int, expire_time: int) -> GeneratedToken:
    """Build an AccessToken 006 for `uid` in `channel`, valid for `expire_time` seconds.

    agora-token-builder takes an ABSOLUTE unix time for the expiry: passing the bare
    seconds (as the guide does with its 007 builder) would yield a token that expired in 1970.
    uid 0 signs the empty account, which lets any uid join with the token.
    """
    config = current_app.config
    expires_at = int(time.time()) + expire_time
    token = RtcTokenBuilder.buildTokenWithUid(
        config["APP_ID"], config["APP_CERTIFICATE"], channel, uid, role, expires_at
    )
    return GeneratedToken(token=token, expires_at=expires_at)
