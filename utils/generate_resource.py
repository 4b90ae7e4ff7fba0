"""The guide's generateSpeechToTextResource, for Agora RTT 7.x.

In the 5.x/6.x API a task needed a builderToken from POST /builderTokens first. In 7.x that
call is gone: what identifies a task is its unique `name`, and what lets it work is a pair of
bots (one subscribes to the audio, one publishes the captions) with a token each. This is
that resource.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from flask import current_app

from utils.generate_token import generate_token

# Bot uids are drawn at random from the top of the uid space, far from the uids apps give their
# users (the guide's fixed "2" and "3" collide with a user 2 or 3); the demo page hides this range.
BOT_UID_MIN = 4_000_000_000
BOT_UID_MAX = 4_294_967_295

# The bots stay as long as the task does, up to the 24 h an Agora token can last. Whether a
# bot is dropped when its token expires is unconfirmed, so give it the longest lifetime.
BOT_TOKEN_LIFETIME = 86_400


@dataclass(frozen=True)
class SpeechToTextResource:
    name: str
    sub_bot_uid: int
    sub_bot_token: str
    pub_bot_uid: int
    pub_bot_token: str


def generate_speech_to_text_resource(channel: str) -> SpeechToTextResource:
    """A unique task name, two bot uids and a token for each, for a task in `channel`."""
    sub_bot_uid = _bot_uid()
    pub_bot_uid = _bot_uid()
    while pub_bot_uid == sub_bot_uid:
        pub_bot_uid = _bot_uid()
    sub_bot_token = _bot_token(channel, sub_bot_uid)
    pub_bot_token = _bot_token(channel, pub_bot_uid)
    return SpeechToTextResource(
        # Agora: <= 64 characters, unique, never reused.
        name=f"rtt-{uuid.uuid4().hex}",
        sub_bot_uid=sub_bot_uid,
        sub_bot_token=sub_bot_token,
        pub_bot_uid=pub_bot_uid,
        pub_bot_token=pub_bot_token,
    )


def _bot_token(channel: str, uid: int) -> str:
    """The bot's own token, in the server's default format (TOKEN_VERSION).

    Publisher for both bots: the pub bot must publish the data stream, and the least role the
    sub bot may have is unconfirmed, so it gets the one that surely works.
    """
    config = current_app.config
    return generate_token(
        config["APP_ID"],
        config["APP_CERTIFICATE"],
        channel,
        uid,
        "publisher",
        BOT_TOKEN_LIFETIME,
        version=config["TOKEN_VERSION"],
    ).token


def _bot_uid() -> int:
    return BOT_UID_MIN + secrets.randbelow(BOT_UID_MAX - BOT_UID_MIN + 1)
