"""The duration cap: a task older than MAX_TASK_SECONDS is stopped by the service itself.

A forgotten task bills until Agora's idle timeout, which a channel with people in it never
reaches. Each worker runs a small daemon thread (started by its first request, so that tests
building many apps start none) that wakes every SWEEP_INTERVAL_SECONDS; a lease in the shared
store lets one of them act at a time across workers and machines, and a per-task mark in the
store lets a task be sent at most one leave per LEAVE_RETRY_SECONDS, whoever sweeps.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask

from api.errors import ApiError
from api.rtt import agent_url, call_rtt
from api.rtt.agents import end_task, timestamp_seconds
from state import Store

logger = logging.getLogger("api.sweeper")

LEASE_NAME = "duration-sweeper"
# A leave that failed upstream (5xx, timeout) is tried again this much later, not at every sweep.
LEAVE_RETRY_SECONDS = 60.0
MAX_DURATION = "max_duration"


def sweep(app: Flask, now: float | None = None) -> list[str]:
    """One pass, if this process wins the lease: leave and end every running task past the cap; the ids ended."""
    cap = app.config["MAX_TASK_SECONDS"]
    if cap is None:
        return []
    registry: Store = app.extensions["state"]
    if registry.acquire(LEASE_NAME, app.config["SWEEP_INTERVAL_SECONDS"]) > 0:
        return []  # another worker or machine sweeps this round
    now = time.time() if now is None else now
    ended = []
    for task in registry.running_tasks():
        if now - timestamp_seconds(task.create_ts) < cap:
            continue
        if not registry.first_sighting(f"max-duration:{task.task_id}", LEAVE_RETRY_SECONDS):
            continue  # a leave for it went out lately, from here or elsewhere
        with app.app_context():
            try:
                call_rtt("POST", agent_url(task.task_id, "/leave"), task_id=task.task_id)
            except ApiError as exc:
                if exc.code != "task_not_found":  # gone already: it has stopped either way
                    logger.error("could not stop task %s at the duration cap: %s", task.task_id, exc.message)
                    continue
            end_task(task.task_id, status="STOPPED", reason=MAX_DURATION, at=now)
        logger.warning(
            "stopped task %s in channel %r: older than MAX_TASK_SECONDS (%s s)", task.task_id, task.channel, cap
        )
        ended.append(task.task_id)
    return ended


def init_app(app: Flask) -> None:
    """Start this process's sweeper at its first request, when a cap is set."""
    if app.config["MAX_TASK_SECONDS"] is None:
        return
    started = {"pid": None}
    lock = threading.Lock()

    def start_duration_sweeper() -> None:
        if started["pid"] == os.getpid():
            return
        with lock:
            if started["pid"] != os.getpid():  # a forked worker starts its own
                threading.Thread(target=_run, args=(app,), name="duration-sweeper", daemon=True).start()
                started["pid"] = os.getpid()

    app.before_request(start_duration_sweeper)


def _run(app: Flask) -> None:
    interval = app.config["SWEEP_INTERVAL_SECONDS"]
    while True:
        time.sleep(interval)
        try:
            sweep(app)
        except Exception:  # the thread must outlive one bad pass (a store hiccup); the traceback is logged
            logger.exception("duration sweep failed; trying again in %s s", interval)
