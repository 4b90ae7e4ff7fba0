"""The registry's view of Agora's agents, kept in step with what Agora reports.

The store (state/) only remembers; this module decides: which task a request means (by
`taskId` or `channel`), what Agora's answers change in the registry, and how an agent that
Agora runs but nobody recorded (a crash between Agora's answer and ours) is adopted.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app

from api.errors import ApiError
from api.metrics import count_task_ended
from api.rtt import call_rtt, rtt_url
from api.validation import channel_field, task_id_field
from state import ENDED_STATUSES, Store, Task

logger = logging.getLogger("api.registry")

# A status of an agent that is, or may soon be, transcribing: adopt it rather than start another.
LIVE_STATUSES = frozenset({"IDLE", "STARTING", "RUNNING", "RECOVERING"})
# Agora's list is paginated (default 20); ask for a page that covers any one deployment's tasks.
LIST_PAGE = 100


def store() -> Store:
    return current_app.extensions["state"]


@dataclass(frozen=True)
class Target:
    """The task a query, stop or update means: its id, and the registry's record if it has one."""

    task_id: str
    task: Task | None


def target_of(body: dict[str, Any], *, ended_too: bool = False) -> Target:
    """`taskId` if given, else the running task of `channel`; 404 task_not_found for a channel without one.

    `ended_too` (query): a channel without a running task means the one that ended there last,
    so that a page can learn why its captions stopped.
    """
    channel = channel_field(body) if "channel" in body else None  # checked even beside a taskId
    if "taskId" in body or channel is None:
        task_id = task_id_field(body)  # names taskId when both are missing
        return Target(task_id, store().get_task(task_id))
    task = store().task_for_channel(channel)
    if task is None and ended_too:
        task = store().last_ended_task(channel)
    if task is None:
        raise ApiError(
            404, "task_not_found", f"No transcription task is running in channel {channel!r}.", field="channel"
        )
    return Target(task.task_id, task)


def end_task(task_id: str, *, status: str, reason: str, at: float | None = None) -> Task | None:
    """End the task in the registry (its channel is free) and count it, once, whichever worker ends it.

    `at` is when it ended, if not now: a notification's own stop_ts.
    """
    at = time.time() if at is None else round(at, 3)
    task = store().end_task(task_id, status=status, reason=reason, at=at)
    # The store answers the ended task whether this call ended it or an earlier one did: only
    # this call's own end time (kept to the millisecond) says it was this one.
    if task is not None and task.ended_ts is not None and abs(task.ended_ts - at) < 0.001:
        count_task_ended(reason)
    return task


def note_gone(task_id: str, reason: str = "gone") -> Task | None:
    """Agora does not know the task (404): it has ended, and its channel is free."""
    return end_task(task_id, status="STOPPED", reason=reason)


def note_status(task_id: str, status: str, message: str | None = None) -> Task | None:
    """What a query learnt: an ended agent frees its channel; a live one keeps its latest status."""
    if status in ENDED_STATUSES:
        return end_task(task_id, status=status, reason=message or status.lower())
    return store().set_status(task_id, status)


def timestamp_seconds(value: Any) -> int:
    """Agora's times are documented in seconds and sometimes sent in milliseconds: accept both."""
    number = int(value or 0)
    return number // 1000 if number > 10**11 else number


def list_agents(channel: str | None = None) -> tuple[list[dict[str, Any]], bool]:
    """Agora's `list` (7.2.1): the agents it has, and whether the page holds all of them."""
    params: dict[str, Any] = {"limit": LIST_PAGE}
    if channel is not None:
        params["channel"] = channel
    data = call_rtt("GET", rtt_url("/agents"), params=params)
    page = data.get("data") if isinstance(data.get("data"), dict) else {}
    items = [item for item in page.get("list") or [] if isinstance(item, dict) and item.get("agent_id")]
    total = (data.get("meta") or {}).get("total") if isinstance(data.get("meta"), dict) else None
    complete = total is None or int(total) <= len(items)
    return items, complete


def adopt_from_agora(channel: str, owner: str) -> Task | None:
    """Before starting again after a start whose outcome nobody recorded: is an agent already there?

    Agora's list carries no task name, so any live agent of this project in the channel counts
    as ours: one agent per channel is what the registry promises, and a second would be billed.
    """
    items, _complete = list_agents(channel)
    live = [item for item in items if str(item.get("status", "")).upper() in LIVE_STATUSES]
    if not live:
        return None
    newest = max(live, key=lambda item: timestamp_seconds(item.get("start_ts")))
    adopted = Task(
        task_id=str(newest["agent_id"]),
        channel=channel,
        status=str(newest.get("status")).upper(),
        create_ts=timestamp_seconds(newest.get("start_ts")),
        adopted=True,
    )
    logger.warning("adopted agent %s, found running at Agora in channel %r", adopted.task_id, channel)
    return store().record_task(adopted, owner)


def reconcile_with_agora() -> list[Task]:
    """One `list` call: end what Agora no longer runs, adopt what it runs that a crashed start left.

    An unknown agent is matched to the channel of a stale claim when it started within that
    claim's lease (the join was under way); one that matches none is still listed, by id.
    """
    items, complete = list_agents()
    running = {item["agent_id"]: item for item in items if str(item.get("status", "")).upper() in LIVE_STATUSES}
    ended = {item["agent_id"]: item for item in items if str(item.get("status", "")).upper() in ENDED_STATUSES}
    registry = store()
    for task in registry.running_tasks():
        if task.task_id in running:
            note_status(task.task_id, str(running[task.task_id]["status"]).upper())
        elif task.task_id in ended:
            note_status(task.task_id, str(ended[task.task_id]["status"]).upper(), "ended at Agora")
        elif complete and task.task_id not in running:
            note_gone(task.task_id)
    known = {task.task_id for task in registry.running_tasks()}
    strays = [
        item for agent_id, item in running.items() if agent_id not in known and registry.get_task(agent_id) is None
    ]
    lease = claim_lease_seconds()
    for item in sorted(strays, key=lambda item: timestamp_seconds(item.get("start_ts"))):
        started = timestamp_seconds(item.get("start_ts"))
        claims = registry.stale_claims()
        matches = [channel for channel, at in claims.items() if at - 1 <= started <= at + lease + 1]
        if matches:
            channel = min(matches, key=lambda name: abs(claims[name] - started))
            registry.record_task(
                Task(
                    task_id=str(item["agent_id"]),
                    channel=channel,
                    status=str(item["status"]).upper(),
                    create_ts=started,
                    adopted=True,
                )
            )
            logger.warning("adopted agent %s into channel %r from Agora's list", item["agent_id"], channel)
    return registry.running_tasks() + [
        Task(
            task_id=str(item["agent_id"]),
            channel="",
            status=str(item["status"]).upper(),
            create_ts=timestamp_seconds(item.get("start_ts")),
            adopted=True,
        )
        for item in strays
        if registry.get_task(str(item["agent_id"])) is None
    ]


def claim_lease_seconds() -> float:
    """A claim outlives the slowest join (connect + read timeout) by a little: then it is stale."""
    config = current_app.config
    return config["AGORA_CONNECT_TIMEOUT"] + config["AGORA_READ_TIMEOUT"] + 2.0
