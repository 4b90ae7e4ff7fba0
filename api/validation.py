"""Input rules of the API. Each failure names the field and the rule it broke.

The rules are Agora's (docs/agora.md, "Channel names and uids") and are mirrored
one for one in the OpenAPI document, so that what the document calls valid is accepted.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, request

from api.errors import ApiError, invalid_field
from utils.generate_token import VERSIONS as TOKEN_VERSIONS
from utils.languages import SUPPORTED_LANGUAGES

MAX_UID = 4_294_967_295
CHANNEL_RULE = (
    "channel must be 1-64 characters from a-z, A-Z, 0-9, space and ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { | } ~ ,"
)
# Everything allowed besides letters and digits; the demo page's input pattern is built from it too.
CHANNEL_PUNCTUATION = "!#$%&()+-:;<=.>?@[]^_{|}~, "
# Escaped only where a class needs it, so that Python and JSON Schema (ECMA-262) read it alike.
CHANNEL = "[A-Za-z0-9" + "".join("\\" + c if c in "[]\\^-" else c for c in CHANNEL_PUNCTUATION) + "]{1,64}"
_CHANNEL = re.compile(CHANNEL)
# The decimal form of 0..4294967295, no leading zeros: exact, so the OpenAPI document can use it too.
UID_STRING = (
    r"0|[1-9][0-9]{0,8}|[1-3][0-9]{9}|4[01][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|4294[0-8][0-9]{5}"
    r"|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[01][0-9]{2}|42949672[0-8][0-9]|429496729[0-5]"
)
_UID_STRING = re.compile(UID_STRING)
TASK_ID = r"[A-Za-z0-9_-]{1,128}"
_TASK_ID = re.compile(TASK_ID)

DEFAULT_LANGUAGES = ["en-US"]
MAX_LANGUAGES = 4
DEFAULT_MAX_IDLE_TIME = 60  # seconds; the guide's value (Agora's own default is 30)
MAX_IDLE_TIME_RANGE = (5, 2_592_000)
EXPIRE_TIME_RANGE = (1, 86_400)
DEFAULT_EXPIRE_TIME = 3600
TOKEN_SERVICES = ("rtc", "rtm")  # in the order a token lists them (by service type)
DEFAULT_SERVICES = ["rtc"]
RTM_USER_ID_RULE = CHANNEL_RULE.replace("channel", "rtmUserId", 1)

_MISSING = object()


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object: 415 if it is not JSON, 400 if it is not an object."""
    body = request.get_json(silent=True)  # None when not sent as JSON, or not parseable
    if body is None and not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", "The request body must be JSON, sent with Content-Type: application/json."
        )
    if body is None:
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", 'The request body must be a JSON object, such as {"channel": "demo"}.')
    return body


def channel_field(body: dict[str, Any]) -> str:
    """Required `channel`: Agora's channel-name rules, then the deployment's CHANNEL_PATTERN."""
    value = _required(body, "channel")
    if not isinstance(value, str) or not _CHANNEL.fullmatch(value):
        raise invalid_field("channel", CHANNEL_RULE)
    pattern = current_app.config["CHANNEL_PATTERN"]
    if pattern is not None and not pattern.fullmatch(value):
        raise ApiError(
            403,
            "channel_forbidden",
            "channel is not one this service may be used for (it does not match CHANNEL_PATTERN)",
            field="channel",
        )
    return value


def uid_field(body: dict[str, Any]) -> int:
    """Required `uid`: an integer 0..4294967295, or the same number as a decimal string."""
    value = _required(body, "uid")
    rule = "uid must be an integer from 0 to 4294967295 (0 lets Agora assign one), or that number as a string"
    if isinstance(value, str) and _UID_STRING.fullmatch(value):
        value = int(value)
    value = _as_int(value)
    if value is None or not 0 <= value <= MAX_UID:
        raise invalid_field("uid", rule)
    return value


def role_field(body: dict[str, Any]) -> str:
    value = body.get("role", "publisher")
    if value not in ("publisher", "subscriber"):
        raise invalid_field("role", 'role must be "publisher" or "subscriber"')
    return value


def expire_time_field(body: dict[str, Any]) -> int:
    return _int_field(body, "expireTime", DEFAULT_EXPIRE_TIME, EXPIRE_TIME_RANGE, "seconds from now")


def token_version_field(body: dict[str, Any], default: str) -> str:
    """Optional `version`: "007" (AccessToken2) or "006" (legacy); `default` is the server's TOKEN_VERSION."""
    value = body.get("version", default)
    if value not in TOKEN_VERSIONS:
        raise invalid_field("version", 'version must be "007" (AccessToken2) or "006" (legacy, for old SDKs)')
    return value


def services_field(body: dict[str, Any], version: str) -> list[str]:
    """Optional `services`: the token's services, "rtc" always, "rtm" (Signaling) only in a 007 token."""
    value = body.get("services", _MISSING)
    if value is _MISSING:
        return list(DEFAULT_SERVICES)
    rule = 'services must be ["rtc"] or ["rtc", "rtm"] (each at most once)'
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value) or len(set(value)) != len(value):
        raise invalid_field("services", rule)
    unknown = [item for item in value if item not in TOKEN_SERVICES]
    if unknown:
        raise invalid_field("services", f"{rule}; unknown: {', '.join(unknown)[:100]}")
    if "rtc" not in value:
        raise invalid_field("services", f"{rule}: the token is always for a channel")
    if "rtm" in value and version != "007":
        raise invalid_field(
            "services",
            f'services may include "rtm" only in a "007" token (Signaling needs AccessToken2); this token would be '
            f'{version}: send "version": "007"',
        )
    return [service for service in TOKEN_SERVICES if service in value]


def rtm_user_id_field(body: dict[str, Any], services: list[str], uid: int) -> str | None:
    """Optional `rtmUserId`: Signaling's user id, by default the uid's decimal string; None without "rtm"."""
    value = body.get("rtmUserId", _MISSING)
    if "rtm" not in services:
        if value is not _MISSING:
            raise invalid_field("rtmUserId", 'rtmUserId needs "rtm" in services')
        return None
    if value is _MISSING:
        return str(uid)
    if not isinstance(value, str) or not _CHANNEL.fullmatch(value):
        raise invalid_field("rtmUserId", RTM_USER_ID_RULE)
    return value


MAX_SPEAKER_NAME = 64
SPEAKER_NAME_RULE = f"name must be 1-{MAX_SPEAKER_NAME} characters after trimming spaces, without control characters"
# The spaces trimmed: JavaScript's \s without its control characters, so that the OpenAPI
# document's pattern (ECMA-262) and this check draw the same line. Controls are refused anywhere.
_NAME_SPACES = "\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000\\ufeff"
_NAME_CONTROLS = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029"
SPEAKER_NAME = (
    f"[{_NAME_SPACES}]*[^{_NAME_SPACES}{_NAME_CONTROLS}]"
    f"(?:[^{_NAME_CONTROLS}]{{0,{MAX_SPEAKER_NAME - 2}}}[^{_NAME_SPACES}{_NAME_CONTROLS}])?[{_NAME_SPACES}]*"
)
_SPEAKER_NAME = re.compile(SPEAKER_NAME)
_SPACES = re.compile(f"^[{_NAME_SPACES}]+|[{_NAME_SPACES}]+$")


def speaker_name_field(body: dict[str, Any], uid: int) -> str | None:
    """Optional `name`: how the user appears in captions and transcripts, instead of their uid."""
    value = body.get("name", _MISSING)
    if value is _MISSING:
        return None
    if not isinstance(value, str) or not _SPEAKER_NAME.fullmatch(value):
        raise invalid_field("name", SPEAKER_NAME_RULE)
    if uid == 0:
        raise invalid_field("name", "name needs a uid other than 0: a token for any uid cannot say whose name it is")
    return _SPACES.sub("", value)


def max_idle_time_field(body: dict[str, Any]) -> int:
    return _int_field(body, "maxIdleTime", DEFAULT_MAX_IDLE_TIME, MAX_IDLE_TIME_RANGE, "seconds")


def languages_field(body: dict[str, Any]) -> list[str]:
    value = body.get("languages", _MISSING)
    if value is _MISSING:
        return list(DEFAULT_LANGUAGES)
    rule = (
        f"languages must be a list of 1 to {MAX_LANGUAGES} different language codes "
        'that Agora supports, such as ["en-US", "es-ES"]'
    )
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LANGUAGES:
        raise invalid_field("languages", rule)
    if not all(isinstance(code, str) for code in value) or len(set(value)) != len(value):
        raise invalid_field("languages", rule)
    unknown = [code for code in value if code not in SUPPORTED_LANGUAGES]
    if unknown:
        raise invalid_field("languages", f"{rule}; not supported: {', '.join(unknown)[:200]}")
    return value


def task_id_field(body: dict[str, Any]) -> str:
    value = _required(body, "taskId")
    if not isinstance(value, str) or not _TASK_ID.fullmatch(value):
        raise invalid_field(
            "taskId", "taskId must be the taskId that start returned (1-128 characters of A-Z, a-z, 0-9, _ and -)"
        )
    return value


def _required(body: dict[str, Any], name: str) -> Any:
    value = body.get(name, _MISSING)
    if value is _MISSING:
        raise invalid_field(name, f"{name} is required")
    return value


def _int_field(body: dict[str, Any], name: str, default: int, bounds: tuple[int, int], unit: str) -> int:
    value = body.get(name, _MISSING)
    if value is _MISSING:
        return default
    low, high = bounds
    number = _as_int(value)
    if number is None or not low <= number <= high:
        raise invalid_field(name, f"{name} must be an integer from {low} to {high} ({unit})")
    return number


def _as_int(value: Any) -> int | None:
    """The integer a JSON number stands for, or None.

    JSON (and JSON Schema, hence the OpenAPI document) does not tell 60 from 60.0, so neither
    do we; 60.5 is not an integer, and `true` is not a number although Python's bool is an int.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
