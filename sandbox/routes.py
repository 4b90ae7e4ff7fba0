"""Routes the service adds in sandbox mode only: fault injection, and the caption stream.

Nobody can join a real call offline, so /sandbox/captions/<taskId> stands in for the RTC data
stream: Server-Sent Events carrying the same protobuf bytes the publisher bot would send.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request

from api.errors import ApiError
from api.validation import read_json_object
from sandbox.captions import conversation, encode
from sandbox.emulator import Rejected, parse_fault
from sandbox.store import SandboxStore
from utils.send_response import send_successful_response

bp = Blueprint("sandbox", __name__)

TICK = 0.25  # how often a stream checks that its task still runs
TOUCH_EVERY = 2.0  # a listening page counts as someone in the channel
STREAM_SECONDS = 600  # then the browser's EventSource reconnects and resumes


@bp.post("/sandbox/faults")
def add_fault() -> Response:
    """Queue a fault for the next emulated Agora call(s); see sandbox.emulator.parse_fault."""
    try:
        op, spec, count = parse_fault(read_json_object())
    except Rejected as exc:
        raise ApiError(400, "invalid_fault", exc.detail) from None
    _store().add_fault(op, spec, count)
    return send_successful_response({"queued": {"op": op, "count": count, **spec}}, 201)


@bp.delete("/sandbox/faults")
def clear_faults() -> Response:
    _store().clear_faults()
    return Response(status=204)


@bp.get("/sandbox/captions/<task_id>")
def captions(task_id: str) -> Response:
    """Server-Sent Events: {"uid": pubBotUid, "payload": base64 protobuf} until the task stops."""
    store = _store()
    agent = store.get_agent(current_app.config["APP_ID"], task_id)
    if agent is None:
        raise ApiError(404, "task_not_found", f"No transcription task {task_id} in the sandbox.", field="taskId")
    resume_after = request.headers.get("Last-Event-ID", type=int)
    culture = agent.languages[0]
    return Response(
        _stream(store, agent.app_id, task_id, int(agent.pub_bot_uid), culture, resume_after),
        content_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _stream(
    store: SandboxStore, app_id: str, task_id: str, pub_bot_uid: int, culture: str, resume_after: int | None
) -> Iterator[str]:
    began = time.monotonic()
    last_touch = 0.0
    yield "retry: 1000\n\n"
    events = conversation()
    if resume_after is not None:
        events = (event for event in events if event.seq > resume_after)
    offset = None
    for event in events:
        offset = event.at if offset is None else offset
        due = began + event.at - offset
        while True:
            now = time.monotonic()
            agent = store.get_agent(app_id, task_id)
            if agent is None or agent.is_stopped(store.clock()):
                status = {"status": "STOPPED", "message": agent.stop_message(store.clock()) if agent else None}
                yield f"event: end\ndata: {json.dumps(status)}\n\n"
                return
            if now - last_touch >= TOUCH_EVERY:
                store.touch(task_id, store.clock())
                last_touch = now
            if now - began > STREAM_SECONDS:
                return
            if now >= due:
                break
            time.sleep(min(TICK, due - now))
        payload = base64.b64encode(encode(event, culture, int(store.clock() * 1000))).decode("ascii")
        yield f"id: {event.seq}\ndata: {json.dumps({'uid': pub_bot_uid, 'payload': payload})}\n\n"


def _store() -> SandboxStore:
    return current_app.extensions["sandbox_store"]
