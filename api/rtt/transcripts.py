"""Transcripts: what was said in a task, from the caption files Agora recorded for it.

GET    /api/rtt/transcripts/<taskId>.vtt|.srt|.txt|.json[?lang=]  the transcript, streamed
GET    /api/rtt/transcripts.json?channel=...                      a channel's tasks and their transcripts
DELETE /api/rtt/transcripts/<taskId>                              its files and names, gone
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request, stream_with_context

from api.errors import ApiError, invalid_field
from api.policy import api_route
from api.rtt import agent_url, call_rtt
from api.rtt.agents import note_gone, note_status, store
from api.rtt.speakers import names_for
from api.rtt.transcript import (
    FORMATS,
    Track,
    cues_of_track,
    find_tracks,
    merged,
    write_json,
    write_srt,
    write_txt,
    write_vtt,
)
from api.validation import TASK_ID, channel_field
from state import Task
from utils.caption_files import folder
from utils.caption_storage import CaptionStorage, StorageError, UnreadableStorage, open_caption_storage
from utils.make_request import require_field
from utils.send_response import send_successful_response

bp = Blueprint("rtt_transcripts", __name__)
POLICY = api_route("rtt")
logger = logging.getLogger("api.transcripts")

_TASK_ID = re.compile(TASK_ID)
_LANG = re.compile(r"[A-Za-z0-9-]{2,32}")
_STORAGE_LOCK = threading.Lock()


@bp.get("/api/rtt/transcripts/<transcript>")
def get(transcript: str) -> Response:
    """One task's transcript: every spoken track merged in time order, or the track `lang` names."""
    task_id, _, extension = transcript.rpartition(".")
    if extension not in FORMATS:
        raise ApiError(404, "not_found", "A transcript is /api/rtt/transcripts/<taskId> and .vtt, .srt, .txt or .json.")
    lang = request.args.get("lang")
    if lang is not None and not _LANG.fullmatch(lang):
        raise invalid_field("lang", "lang must be a language code such as en-US (one of the transcript's languages)")
    task = _task(task_id)
    storage = _storage()
    state = _state(task)
    tracks = _guarded(storage, lambda: find_tracks(storage.keys(_prefix()), task))
    if lang is not None:
        chosen = [track for track in tracks if track.language == lang]
        if not chosen:
            have = ", ".join(track.language for track in tracks if track.language) or "none yet"
            message = f"Task {task_id} has no transcript in {lang}; its languages: {have}."
            raise ApiError(404, "no_transcript", message, field="lang")
    else:
        chosen = [track for track in tracks if track.spoken]
    if not chosen and state == "complete":
        raise ApiError(
            404,
            "no_transcript",
            f"No caption files of task {task_id} are in the storage ({storage.vendor}): "
            "Agora wrote none, or they were deleted.",
            field="taskId",
        )
    names = names_for(task)
    opened = [_guarded(storage, lambda track=track: cues_of_track(storage, track, task, names)) for track in chosen]
    cues = merged([cue_iterator for cue_iterator, _ended, _count in opened])
    head = {
        "taskId": task.task_id,
        "channel": task.channel,
        "language": lang,
        "languages": [track.language for track in chosen if track.language],
        "state": state,
        "createTs": task.create_ts,
    }
    body = {
        "vtt": lambda: write_vtt(cues),
        "srt": lambda: write_srt(cues),
        "txt": lambda: write_txt(cues),
        "json": lambda: write_json(head, cues),
    }[extension]()
    filename = f"transcript-{task.task_id}{'-' + lang if lang else ''}.{extension}"
    return Response(
        stream_with_context(_until_storage_fails(body, storage)),
        content_type=FORMATS[extension],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Transcript-State": state,
            "Cache-Control": "no-store",
        },
    )


@bp.get("/api/rtt/transcripts.json")
def listing() -> Response:
    """?channel=... -> {channel, tasks: [{taskId, status, createTs, endedTs, recordsCaptions, languages,
    translations, transcript: "partial"|"complete"|null}]}, oldest first."""
    channel = channel_field({"channel": request.args["channel"]} if "channel" in request.args else {})
    tasks = store().channel_tasks(channel)
    recording = [task for task in tasks if task.records_captions or task.adopted]
    # The state first: asking Agora may end a task (and, in the sandbox, write its last files).
    states = {task.task_id: _state(task) for task in recording}
    tracks_by_task: dict[str, list[Track]] = {}
    if recording:
        storage = _storage()
        keys = _guarded(storage, lambda: list(storage.keys(_prefix())))
        tracks_by_task = {task.task_id: find_tracks(keys, task) for task in recording}
    items = []
    for task in tasks:
        state = states.get(task.task_id)
        task = store().get_task(task.task_id) or task  # _state may have learnt that it ended
        tracks = tracks_by_task.get(task.task_id, [])
        items.append(
            {
                "taskId": task.task_id,
                "status": task.status,
                "createTs": task.create_ts,
                "endedTs": task.ended_ts,
                "recordsCaptions": task.records_captions,
                "languages": [track.language for track in tracks if track.spoken and track.language]
                or list(task.languages),
                "translations": [track.language for track in tracks if not track.spoken],
                "transcript": state,
            }
        )
    return send_successful_response({"channel": channel, "tasks": items})


@bp.delete("/api/rtt/transcripts/<transcript>")
def delete(transcript: str) -> Response:
    """Remove an ended task's caption files and the names kept with it.

    -> {taskId, deletedObjects, forgottenNames}
    """
    task_id = transcript  # here the task's id alone: everything of it goes
    task = _task(task_id)
    if not task.ended:
        raise ApiError(
            409,
            "task_running",
            f"Task {task_id} still runs and records: stop it (POST /api/rtt/stop.json), then delete its transcript.",
            field="taskId",
        )
    storage = _storage()
    keys = _guarded(storage, lambda: list(storage.keys(_prefix())))
    mine = [key for key in keys if task.task_id in key.rsplit("/", 1)[-1]]
    deleted = _guarded(storage, lambda: storage.delete(mine))
    forgotten = store().forget_task_speakers(task.task_id)
    logger.info("transcript of task %s deleted: %d objects, %d names", task.task_id, deleted, forgotten)
    return send_successful_response({"taskId": task.task_id, "deletedObjects": deleted, "forgottenNames": forgotten})


# -- helpers ------------------------------------------------------------------------------------


def _task(task_id: str) -> Task:
    if not _TASK_ID.fullmatch(task_id):
        raise invalid_field(
            "taskId", "taskId must be the taskId that start returned (1-128 characters of A-Z, a-z, 0-9, _ and -)"
        )
    task = store().get_task(task_id)
    if task is None:
        raise ApiError(404, "task_not_found", f"No transcription task {task_id} is known here.", field="taskId")
    if not task.records_captions and not task.adopted:
        raise ApiError(
            404,
            "no_transcript",
            f"Task {task_id} was started without recordCaptions, so Agora recorded no caption files for it.",
            field="taskId",
        )
    return task


def _state(task: Task) -> str:
    """ "partial" while the agent runs or left less than TRANSCRIPT_GRACE_SECONDS ago, else "complete".

    A task the registry believes running is asked about first: it may have stopped on its own.
    """
    if not task.ended:
        try:
            data = call_rtt("GET", agent_url(task.task_id), task_id=task.task_id)
            task = note_status(task.task_id, str(require_field(data, "status")), data.get("message")) or task
        except ApiError as exc:
            if exc.code == "task_not_found":
                task = note_gone(task.task_id) or task
            else:  # Agora unreachable: the registry's belief stands
                logger.warning("status of task %s unknown (%s); taken as running", task.task_id, exc.code)
    if not task.ended:
        return "partial"
    grace = current_app.config["TRANSCRIPT_GRACE_SECONDS"]
    return "partial" if time.time() - (task.ended_ts or 0) < grace else "complete"


def _prefix() -> str:
    return folder(current_app.config["CAPTION_STORAGE"]["storage"].get("fileNamePrefix") or [])


def _storage() -> CaptionStorage:
    """The bucket the server records to, or the error that says why it cannot be read."""
    if not current_app.config.get("CAPTION_STORAGE"):
        raise ApiError(
            404,
            "no_transcript",
            "No caption storage is configured (CAPTION_STORAGE_VENDOR is not set), so nothing was recorded.",
        )
    try:
        return storage_of(current_app)
    except UnreadableStorage as exc:
        raise ApiError(
            501,
            "storage_not_supported",
            f"Transcripts cannot be read from {exc.vendor}: the service reads S3 and S3-compatible storage "
            "(vendors 1 and 11) and Google Cloud Storage (6). The files are in your bucket.",
        ) from None


def storage_of(app: Flask) -> CaptionStorage:
    """The app's one caption storage object (boto3 clients are thread-safe), opened on first use.

    The sandbox writes through it too: what it records is exactly what this module reads.
    Raises UnreadableStorage for a vendor without an S3 interface.
    """
    storage = app.extensions.get("caption_storage")
    if storage is None:
        with _STORAGE_LOCK:
            storage = app.extensions.get("caption_storage")
            if storage is None:
                storage = open_caption_storage(app.config["CAPTION_STORAGE"], local_root=caption_bucket_dir(app))
                app.extensions["caption_storage"] = storage
    return storage


def caption_bucket_dir(app: Flask) -> str | None:
    """The sandbox's folder when it stands in for the storage, else None."""
    if not app.config.get("CAPTION_STORAGE_LOCAL"):
        return None
    return app.config.get("CAPTION_BUCKET_DIR") or os.path.join(app.instance_path, "bucket")


def _guarded(storage: CaptionStorage, step: Any) -> Any:
    try:
        return step()
    except StorageError as exc:
        raise _storage_failed(exc) from None


def _storage_failed(exc: StorageError) -> ApiError:
    from api.rtt.options import redact_secrets

    reason = redact_secrets(exc.reason, current_app.config) or "no reason given"
    return ApiError(
        502,
        "storage_unavailable",
        f"The caption storage ({exc.vendor}) failed: {reason}",
        details={"storageReason": reason},
    )


def _until_storage_fails(body: Iterator[str], storage: CaptionStorage) -> Iterator[str]:
    """Once streaming began the status is sent: a failure now can only end the transcript early."""
    try:
        yield from body
    except StorageError as exc:
        logger.error("transcript cut short: %s failed: %s", storage.vendor, exc.reason)
