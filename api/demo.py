"""GET /: the live captions demo page (the guide's Call.tsx, without a build step)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from api.validation import CHANNEL_PUNCTUATION, DEFAULT_MAX_IDLE_TIME
from utils.generate_resource import BOT_UID_MIN

bp = Blueprint("demo", __name__)

# A few of Agora's 147 languages, for the page's picker; the API accepts them all.
PAGE_LANGUAGES = {
    "en-US": "English (US)",
    "en-GB": "English (UK)",
    "es-ES": "Spanish (Spain)",
    "es-MX": "Spanish (Mexico)",
    "fr-FR": "French",
    "de-DE": "German",
    "it-IT": "Italian",
    "pt-BR": "Portuguese (Brazil)",
    "hi-IN": "Hindi",
    "ja-JP": "Japanese",
    "ko-KR": "Korean",
    "zh-CN": "Chinese (Mandarin)",
    "ar-EG": "Arabic (Egypt)",
}


# Characters a class must escape under the `v` flag, with which browsers compile `pattern`.
_V_FLAG_SYNTAX = set("()[]{}/-\\|^")


def channel_input_pattern() -> str:
    """Agora's channel rule (api.validation.CHANNEL) as the input's `pattern`, from the same characters."""
    escaped = "".join("\\" + char if char in _V_FLAG_SYNTAX else char for char in CHANNEL_PUNCTUATION)
    return f"[A-Za-z0-9{escaped}]{{1,64}}"


CHANNEL_INPUT_PATTERN = channel_input_pattern()


@bp.get("/")
def index() -> str:
    return render_template(
        "index.html",
        mode=current_app.config["AGORA_MODE"],
        bot_uid_min=BOT_UID_MIN,
        token_seconds=current_app.config["DEMO_TOKEN_SECONDS"],
        max_idle_time=DEFAULT_MAX_IDLE_TIME,
        channel_pattern=CHANNEL_INPUT_PATTERN,
        languages=PAGE_LANGUAGES,
        sandbox_speakers=_sandbox_speakers(),
        can_record=bool(current_app.config.get("CAPTION_STORAGE")),  # recordCaptions has somewhere to go
    )


def _sandbox_speakers() -> str:
    """The scripted speakers' uids, so that the page can list them (and their language pickers) at once."""
    if current_app.config["AGORA_MODE"] != "sandbox":
        return ""
    from sandbox.captions import SPEAKERS

    return ",".join(map(str, SPEAKERS))
