"""The Real-Time Transcription routes (the guide's src/pages/api/transcription/*.json.ts)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import current_app

from api.errors import from_agora_error
from api.rtt.options import redact_secrets
from utils.generate_credential import generate_credential
from utils.make_request import AgoraError, make_request


def rtt_url(path: str) -> str:
    """A URL of Agora's RTT 7.x API for this project, e.g. rtt_url("/join")."""
    config = current_app.config
    return f"{config['AGORA_API_BASE_URL']}/api/speech-to-text/v1/projects/{config['APP_ID']}{path}"


def agent_url(task_id: str, action: str = "") -> str:
    """The URL of one agent (a task), e.g. agent_url(task_id, "/leave")."""
    return rtt_url(f"/agents/{quote(task_id, safe='')}{action}")


def call_rtt(
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    *,
    task_id: str | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The one way the RTT routes call Agora: credential, request, and every failure mapped to an ApiError.

    Give `task_id` for the calls that address one agent: Agora's 404 then means the task is
    unknown or gone (404 task_not_found), not that our URL is wrong.
    """
    try:
        with current_app.extensions["agora_slots"].held():  # 503 agora_busy when Agora holds them all
            return make_request(method, url, generate_credential(), body, params=params)
    except AgoraError as exc:
        # Agora may quote what we sent (a storage key, say) in its error: never pass that on.
        exc.reason = redact_secrets(exc.reason, current_app.config)
        raise from_agora_error(exc, task_id=task_id) from exc


# Agora: an update must wait >= 5 s after the join and after the previous update.
UPDATE_GAP_SECONDS = 5.0
# The lease is taken before the request leaves: a margin, so that two workers' updates still
# arrive >= 5 s apart when the first one took longer to reach Agora than the second.
UPDATE_SEND_MARGIN_SECONDS = 0.5


def hold_updates(task_id: str) -> float:
    """Take the task's update slot for UPDATE_GAP_SECONDS: 0.0, or the seconds until it is free.

    One lease in the shared store, so that no two workers or machines send updates closer
    than Agora allows; start takes it too, since the first update must also wait.
    """
    seconds = UPDATE_GAP_SECONDS + UPDATE_SEND_MARGIN_SECONDS
    return current_app.extensions["state"].acquire(f"update-gap:{task_id}", seconds)


def updated(task_id: str) -> None:
    """Agora has taken an update: the next waits UPDATE_GAP_SECONDS from now, whenever the lease was taken.

    The lease counts from before the request left; a request held on its way (a busy worker, a
    slow network) would otherwise leave the next one less than the gap after it at Agora.
    """
    current_app.extensions["state"].hold(f"update-gap:{task_id}", UPDATE_GAP_SECONDS + UPDATE_SEND_MARGIN_SECONDS)
