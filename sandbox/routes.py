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
from sandbox.captions import conversation, encode, encode_translation, speaker_language, translation_targets
from sandbox.emulator import Rejected, describe_agent, parse_fault
from sandbox.store import Agent, SandboxStore
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
    return Response(
        _stream(store, agent.app_id, task_id, int(agent.pub_bot_uid), resume_after, _recorder()),
        content_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@bp.get("/sandbox/tasks/<task_id>")
def task(task_id: str) -> Response:
    """What the emulated agent runs with (languages, options without storage keys) and the updates it took."""
    agent = _store().get_agent(current_app.config["APP_ID"], task_id)
    if agent is None:
        raise ApiError(404, "task_not_found", f"No transcription task {task_id} in the sandbox.", field="taskId")
    return send_successful_response(describe_agent(_store(), agent))


def _stream(
    store: SandboxStore, app_id: str, task_id: str, pub_bot_uid: int, resume_after: int | None, recorder=None
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
                now = store.clock()
                status = {
                    "status": agent.status(now) if agent else "STOPPED",
                    "message": agent.stop_message(now) if agent else None,
                }
                yield f"event: end\ndata: {json.dumps(status)}\n\n"
                return
            if now - last_touch >= TOUCH_EVERY:
                store.touch(task_id, store.clock())
                if recorder is not None:  # caption files as the call goes on (sandbox/recording.py)
                    recorder.flush(agent, store.clock())
                last_touch = now
            if now - began > STREAM_SECONDS:
                return
            if now >= due:
                break
            time.sleep(min(TICK, due - now))
        # The agent as it is now: an update changes the very next message.
        for message in _messages(agent, event, int(store.clock() * 1000)):
            payload = base64.b64encode(message).decode("ascii")
            yield f"id: {event.seq}\ndata: {json.dumps({'uid': pub_bot_uid, 'payload': payload})}\n\n"


def _messages(agent: Agent, event, now_ms: int) -> list[bytes]:
    """The transcription of one scripted event, in its speaker's language, then its translations."""
    options = agent.options
    speaker = str(event.speaker)
    subscribed = options.get("subscribeAudioUids")
    if subscribed and subscribed != ["all"] and speaker not in subscribed:
        return []
    if speaker in (options.get("unSubscribeAudioUids") or []):
        return []
    language = speaker_language(event.speaker, agent.languages, options.get("uidLanguagesConfig"))
    messages = [encode(event, language, now_ms)]
    targets = translation_targets(language, options.get("translateConfig"))
    if targets:
        messages.append(encode_translation(event, language, targets, now_ms))
    return messages


def _store() -> SandboxStore:
    return current_app.extensions["sandbox_store"]


def _recorder():
    return current_app.extensions.get("sandbox_recorder")
