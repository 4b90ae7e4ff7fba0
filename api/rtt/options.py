"""Agora RTT 7.x options beyond the guide's: validation, and the mapping to Agora's join and update shapes.

Every rule is one of Agora's published limits (docs/agora.md, RTT 7.x and the language list).
A failure is a 400 naming the field and the limit, raised before anything is sent to Agora.
The OpenAPI document is built from the constants below, so document and code say the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from api.errors import ApiError, invalid_field
from api.validation import MAX_LANGUAGES, MAX_UID, UID_STRING, languages_field
from utils.languages import SUPPORTED_LANGUAGES

MAX_UID_LANGUAGE_SPEAKERS = 5
MAX_SUBSCRIBE_UIDS = 32
MAX_UNSUBSCRIBE_UIDS = 5
MAX_KEYWORDS = 500
MAX_TRANSLATE_SOURCES = 4
MAX_TRANSLATE_TARGETS = 10
ALL_UIDS = "all"
# A speaker's uid: 1..4294967295 (0 is "let Agora assign one", never a speaker's uid).
SPEAKER_UID_STRING = UID_STRING.removeprefix("0|")
_SPEAKER_UID_STRING = re.compile(SPEAKER_UID_STRING)

# What a client may change with update.json, and the updateMask entry each becomes.
UPDATE_MASKS = {
    "languages": "languages",
    "uidLanguagesConfig": "uidLanguagesConfig",
    "translate": "translateConfig.languages",
    "subscribeAudioUids": "rtcConfig.subscribeAudioUids",
    "unSubscribeAudioUids": "rtcConfig.unSubscribeAudioUids",
}

_MISSING = object()


def join_options(body: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The join-body keys for the options in `body` (a start request), validated.

    `rtcConfig`, when present, holds keys to merge into the rtcConfig that start builds
    (merge_join_options does). A `captionConfig` sent by a client is ignored: caption storage
    comes from the server's CAPTION_STORAGE_* settings only, turned on by `recordCaptions`.
    """
    options: dict[str, Any] = {}
    rtc: dict[str, Any] = subscription_options(body)
    if "uidLanguagesConfig" in body:
        options["uidLanguagesConfig"] = uid_languages_config(body["uidLanguagesConfig"])
    if "keywords" in body:
        options["keywords"] = keywords(body["keywords"])
    if "translate" in body:
        options["translateConfig"] = {"languages": translate_languages(body["translate"])}
    if "enableJsonProtocol" in body:
        value = body["enableJsonProtocol"]
        if not isinstance(value, bool):
            raise invalid_field("enableJsonProtocol", "enableJsonProtocol must be true or false")
        # Listed among rtcConfig's fields in the 6.x and 7.x references (docs/agora.md, Gen B).
        rtc["enableJsonProtocol"] = value
    if record_captions(body):
        options["captionConfig"] = caption_config(config)
    if rtc:
        options["rtcConfig"] = rtc
    return options


def merge_join_options(payload: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Add join_options' keys to start's join payload, merging rtcConfig rather than replacing it."""
    for key, value in options.items():
        if key == "rtcConfig":
            payload.setdefault("rtcConfig", {}).update(value)
        else:
            payload[key] = value
    return payload


def update_fields(body: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The update body for Agora and its updateMask, naming exactly the fields sent."""
    given = [name for name in UPDATE_MASKS if name in body]
    if not given:
        raise ApiError(400, "invalid_field", f"Nothing to update: give at least one of {', '.join(UPDATE_MASKS)}.")
    update: dict[str, Any] = {}
    if "languages" in body:
        update["languages"] = languages_field(body)
    if "uidLanguagesConfig" in body:
        update["uidLanguagesConfig"] = uid_languages_config(body["uidLanguagesConfig"], fewest=0)
    if "translate" in body:
        update["translateConfig"] = {"languages": translate_languages(body["translate"])}
    rtc = subscription_options(body)
    if rtc:
        update["rtcConfig"] = rtc
    return update, [UPDATE_MASKS[name] for name in given]


# -- the fields --------------------------------------------------------------------------------


def language_codes(value: Any, field: str, *, low: int = 1, high: int = MAX_LANGUAGES) -> list[str]:
    """`low` to `high` different codes from Agora's list of 147."""
    rule = f"{field} must be a list of {low} to {high} different language codes that Agora supports, such as en-US"
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise invalid_field(field, rule)
    if not all(isinstance(code, str) for code in value) or len(set(value)) != len(value):
        raise invalid_field(field, rule)
    unknown = [code for code in value if code not in SUPPORTED_LANGUAGES]
    if unknown:
        raise invalid_field(field, f"{rule}; not supported: {', '.join(unknown)[:200]}")
    return value


def speaker_uid(value: Any, field: str) -> str:
    """A speaker's uid, 1..4294967295, as an integer or its decimal string; sent to Agora as a string."""
    if isinstance(value, str) and _SPEAKER_UID_STRING.fullmatch(value):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_UID:
        return str(value)
    raise invalid_field(field, f"{field} must be a uid from 1 to {MAX_UID}, as an integer or a decimal string")


def uid_languages_config(value: Any, *, fewest: int = 1) -> list[dict[str, Any]]:
    """Up to 5 speakers, each {uid, languages: 1-4 codes}: the languages each one speaks.

    An update may send none (`fewest=0`): the masked field is replaced whole, so that clears it.
    """
    field = "uidLanguagesConfig"
    rule = (
        f"{field} must be a list of {fewest} to {MAX_UID_LANGUAGE_SPEAKERS} speakers, "
        'each {"uid": 1234, "languages": ["en-US"]}'
    )
    if not isinstance(value, list) or not fewest <= len(value) <= MAX_UID_LANGUAGE_SPEAKERS:
        raise invalid_field(field, rule)
    speakers = []
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, dict) or "uid" not in item or "languages" not in item:
            raise invalid_field(where, rule)
        speakers.append(
            {
                "uid": speaker_uid(item["uid"], f"{where}.uid"),
                "languages": language_codes(item["languages"], f"{where}.languages"),
            }
        )
    return speakers


def subscription_options(body: Mapping[str, Any]) -> dict[str, Any]:
    """rtcConfig's subscribeAudioUids (<= 32 uids, or ["all"]) or unSubscribeAudioUids (<= 5), not both."""
    subscribe = body.get("subscribeAudioUids", _MISSING)
    unsubscribe = body.get("unSubscribeAudioUids", _MISSING)
    if subscribe is not _MISSING and unsubscribe is not _MISSING:
        raise invalid_field(
            "unSubscribeAudioUids", "give subscribeAudioUids or unSubscribeAudioUids, not both (Agora's rule)"
        )
    if subscribe is not _MISSING:
        if subscribe == [ALL_UIDS]:
            return {"subscribeAudioUids": [ALL_UIDS]}
        return {"subscribeAudioUids": _uids(subscribe, "subscribeAudioUids", MAX_SUBSCRIBE_UIDS, 'or ["all"]')}
    if unsubscribe is not _MISSING:
        return {"unSubscribeAudioUids": _uids(unsubscribe, "unSubscribeAudioUids", MAX_UNSUBSCRIBE_UIDS)}
    return {}


def _uids(value: Any, field: str, most: int, alternative: str = "") -> list[str]:
    rule = f"{field} must be a list of 1 to {most} uids (1 to {MAX_UID}) {alternative}".rstrip()
    if not isinstance(value, list) or not 1 <= len(value) <= most:
        raise invalid_field(field, rule)
    return [speaker_uid(uid, f"{field}[{index}]") for index, uid in enumerate(value)]


def keywords(value: Any) -> list[str]:
    """Up to 500 words or phrases to favour in recognition."""
    rule = f"keywords must be a list of at most {MAX_KEYWORDS} non-empty strings"
    if not isinstance(value, list) or len(value) > MAX_KEYWORDS:
        raise invalid_field("keywords", rule)
    for index, word in enumerate(value):
        if not isinstance(word, str) or not word:
            raise invalid_field(f"keywords[{index}]", rule)
    return value


def translate_languages(value: Any) -> list[dict[str, Any]]:
    """translate: {languages: [{source, target: [...]}]}: <= 4 sources, <= 10 targets each, source != target."""
    rule = (
        f'translate must be {{"languages": [{{"source": "en-US", "target": ["es-ES"]}}]}}: '
        f"1 to {MAX_TRANSLATE_SOURCES} different sources, each with 1 to {MAX_TRANSLATE_TARGETS} targets"
    )
    pairs = value.get("languages") if isinstance(value, dict) else None
    if not isinstance(pairs, list) or not 1 <= len(pairs) <= MAX_TRANSLATE_SOURCES:
        raise invalid_field("translate.languages", rule)
    sources: list[str] = []
    result = []
    for index, pair in enumerate(pairs):
        where = f"translate.languages[{index}]"
        if not isinstance(pair, dict) or "source" not in pair or "target" not in pair:
            raise invalid_field(where, rule)
        source = pair["source"]
        if not isinstance(source, str) or source not in SUPPORTED_LANGUAGES:
            raise invalid_field(f"{where}.source", f"{where}.source must be one language code that Agora supports")
        if source in sources:
            raise invalid_field(f"{where}.source", f"{where}.source {source} is given twice; list each source once")
        sources.append(source)
        targets = language_codes(pair["target"], f"{where}.target", high=MAX_TRANSLATE_TARGETS)
        if source in targets:
            raise invalid_field(f"{where}.target", f"{where}.target must not contain its source {source}")
        result.append({"source": source, "target": targets})
    return result


def record_captions(body: Mapping[str, Any]) -> bool:
    value = body.get("recordCaptions", False)
    if not isinstance(value, bool):
        raise invalid_field("recordCaptions", "recordCaptions must be true or false")
    return value


def caption_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The captionConfig built at start-up from CAPTION_STORAGE_*; a 400 naming the setting when unset."""
    storage = config.get("CAPTION_STORAGE")
    if not storage:
        raise invalid_field(
            "recordCaptions",
            "recordCaptions needs caption storage on the server, and CAPTION_STORAGE_VENDOR is not set "
            "(with CAPTION_STORAGE_BUCKET, CAPTION_STORAGE_ACCESS_KEY and CAPTION_STORAGE_SECRET_KEY)",
        )
    return storage


# -- secrets in Agora's answers ------------------------------------------------------------------

SECRET_SETTINGS = (
    "APP_CERTIFICATE",
    "CUSTOMER_SECRET",
    "NCS_SECRET",
    "CAPTION_STORAGE_ACCESS_KEY",
    "CAPTION_STORAGE_SECRET_KEY",
)
_REDACTED = "[redacted]"
# A secret cut short by a length limit still gives its first characters away.
_SHORTEST_TELLING_PREFIX = 4


def redact_secrets(text: str | None, config: Mapping[str, Any]) -> str | None:
    """`text` (Agora's own words) without any secret of ours, e.g. a storage key echoed in an error."""
    if not text:
        return text
    for name in SECRET_SETTINGS:
        secret = str(config.get(name) or "")
        if len(secret) < _SHORTEST_TELLING_PREFIX:
            continue
        text = text.replace(secret, _REDACTED)
        for length in range(len(secret) - 1, _SHORTEST_TELLING_PREFIX - 1, -1):
            if text.endswith(secret[:length]):  # truncated mid-secret
                text = text[:-length] + _REDACTED
                break
    return text
