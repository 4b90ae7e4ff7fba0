"""POST /api/rtt/notifications.json: Agora's Notifications (NCS) for Real-Time STT, signed with HMAC.

The URL a user enters in Agora Console > Notifications. Agora posts one event per call: 101
(agent joined) and 102 (agent left, with its status and message). The route verifies the
signature over the raw bytes first, then parses, deduplicates on noticeId in the shared store
(Agora resends, and may deliver twice) and writes the event into the task registry. It never
calls Agora, so it answers well within Agora's 10 s.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, request

from api.errors import ApiError, invalid_field
from api.metrics import count_notification
from api.policy import RoutePolicy
from api.rtt.agents import claim_lease_seconds, end_task, store
from api.settings import notifications_secret
from state import ENDED_STATUSES, Task
from utils.ncs_signature import V1_HEADER, V2_HEADER, SignatureError, verify
from utils.send_response import send_successful_response

bp = Blueprint("rtt_notifications", __name__)
# Agora calls it, not a page: it cannot send an API key and has no browser origin, and its
# retries must not be cut by a client rate limit. The HMAC signature alone authenticates it.
POLICY = RoutePolicy(rate_limit=None, api_key=False, cors=False)

logger = logging.getLogger("api.notifications")

RTT_PRODUCT_ID = 20
AGENT_JOINED = 101
AGENT_LEFT = 102
# Agora resends for a while and may deliver twice: a noticeId is remembered for a day.
DEDUPE_SECONDS = 86_400
# How often a notification for an agent whose join is still being answered looks for it.
JOIN_POLL_SECONDS = 0.05
# The 102 messages that go with FAILED (docs/agora.md, "Notifications"); the others are STOPPED.
FAILED_MESSAGES = frozenset({"RTC connection error", "Fatal ASR error", "Fatal Translation error"})


@dataclass(frozen=True)
class Notice:
    notice_id: str
    event_type: int
    agent_id: str | None
    payload: dict[str, Any]


@bp.post("/api/rtt/notifications.json")
def post() -> Response:
    """A signed NCS event -> {received, noticeId, outcome}; 401 unsigned or forged, 400 malformed."""
    raw = request.get_data(cache=True)  # the bytes as they came: nothing may parse them first
    secret = notifications_secret(current_app.config)
    if secret is None:
        raise ApiError(404, "not_found", "Notifications are not enabled on this server (set NCS_SECRET).")
    try:
        verify(raw, secret, request.headers.get(V2_HEADER), request.headers.get(V1_HEADER))
    except SignatureError as exc:
        logger.warning("notification refused: %s", exc)
        count_notification("unknown", "bad_signature")  # its eventType cannot be trusted
        raise ApiError(401, "invalid_signature", f"Not a notification from Agora: {exc}.") from None
    try:
        notice = _parse(raw)
    except ApiError:
        count_notification("unknown", "invalid")
        raise
    outcome = _apply(notice)
    count_notification(notice.event_type, outcome)
    logger.info(
        "notification %s (event %s, agent %s): %s", notice.notice_id, notice.event_type, notice.agent_id, outcome
    )
    return send_successful_response({"received": True, "noticeId": notice.notice_id, "outcome": outcome})


def _parse(raw: bytes) -> Notice:
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "invalid_json", "The notification body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The notification body must be a JSON object.")
    notice_id = body.get("noticeId")
    if not isinstance(notice_id, str) or not 1 <= len(notice_id) <= 128:
        raise invalid_field("noticeId", "noticeId must be a string of 1-128 characters")
    event_type = body.get("eventType")
    if not isinstance(event_type, int) or isinstance(event_type, bool):
        raise invalid_field("eventType", "eventType must be an integer, such as 101 or 102")
    payload = body.get("payload", {})
    if not isinstance(payload, dict):
        raise invalid_field("payload", "payload must be a JSON object")
    if body.get("productId", RTT_PRODUCT_ID) != RTT_PRODUCT_ID:
        event_type = -1  # another product's event, sent to this URL: acknowledged, not ours to apply
    agent_id = payload.get("agent_id") or body.get("sid")  # sid is the agent id too
    return Notice(notice_id, event_type, str(agent_id) if agent_id else None, payload)


def _apply(notice: Notice) -> str:
    """What the event changes in the registry, as one word: accepted, duplicate, stale, unknown_agent, ignored."""
    if notice.event_type not in (AGENT_JOINED, AGENT_LEFT) or notice.agent_id is None:
        return "ignored"
    registry = store()
    # Effects are idempotent (an end is final), so a crash between this and them loses at most
    # one event, which the next query (Agora's own word) still corrects.
    if not registry.first_sighting(f"ncs:{notice.notice_id}", DEDUPE_SECONDS):
        return "duplicate"
    task = registry.get_task(notice.agent_id) or _await_join(notice)
    if task is None:
        logger.warning(
            "notification %s names agent %s, which the registry does not know", notice.notice_id, notice.agent_id
        )
        return "unknown_agent"
    if notice.event_type == AGENT_JOINED:
        # Events arrive out of order: a 101 delivered after its agent's 102 finds the task ended,
        # and an ended task stays as it ended.
        if task.ended or registry.set_status(task.task_id, "RUNNING") is None:
            return "stale"
        return "accepted"
    status, reason = _end_of(notice.payload)
    if task.ended:
        return "stale"  # the first end recorded is kept: stop, the cap, or an earlier event
    end_task(task.task_id, status=status, reason=reason, at=_seconds(notice.payload.get("stop_ts")))
    return "accepted"


def _await_join(notice: Notice) -> Task | None:
    """The task, if the start that joins it records it soon: Agora can notify before its join answer arrives.

    Only for an agent that started within a join's lease (older unknown agents are someone
    else's), and never longer than that lease: Agora's 10 s is not reached.
    """
    started = _seconds(notice.payload.get("start_ts"))
    lease = min(claim_lease_seconds(), 5.0)
    deadline = time.monotonic() + lease - max(0.0, time.time() - started)
    while time.monotonic() < deadline:
        time.sleep(JOIN_POLL_SECONDS)
        task = store().get_task(notice.agent_id)
        if task is not None:
            return task
    return None


def _end_of(payload: dict[str, Any]) -> tuple[str, str]:
    message = payload.get("message")
    message = message if isinstance(message, str) and message else None
    status = str(payload.get("status") or "").upper()
    if status not in ENDED_STATUSES:  # an agent that left has ended, whatever the word
        status = "FAILED" if message in FAILED_MESSAGES else "STOPPED"
    return status, message or status.lower()


def _seconds(value: Any) -> float:
    """The event's own time: documented in milliseconds, sent as 10-digit seconds; now if neither."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return time.time()
    return value / 1000 if value > 10**11 else float(value)
