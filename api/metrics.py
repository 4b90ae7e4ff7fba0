"""GET /metrics: Prometheus figures for operators, and the helpers the service counts with.

Call the helpers, never the metric objects (their labels are kept bounded here):

    count_task("started" | "already_running")     a start made an agent, or answered a running one
    count_task_ended(reason)                       the registry ended a task (stop, Agora's word, ...)
    count_notification(event, outcome)             an Agora notification: accepted, duplicate, bad_signature
    observe_agora(operation, outcome, seconds)     one call to Agora (utils/make_request.py calls it)

Requests by route and status are counted by `init_app`'s middleware; running tasks are read
from the shared store at scrape time. Under gunicorn every worker writes its figures to files in
PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py sets it before workers fork) and a scrape sums the
files of all workers, dead ones included, so the figures are the service's, not one worker's.
Without it (flask run, tests) the figures live in this process (prometheus-client's registry).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import redis
from flask import Blueprint, Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from api.policy import api_route

logger = logging.getLogger("api.metrics")

bp = Blueprint("metrics", __name__)
POLICY = api_route(None)  # the API key applies when API_KEYS is set; no rate limit

# Module-level, created once per process: an app built again (tests build many) reuses them.
HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by matched route (url rule), method and status",
    ["route", "method", "status"],
)
AGORA_REQUESTS = Counter(
    "agora_requests",
    "Calls to Agora's RTT API by operation and outcome (ok, 4xx, 5xx, timeout, connection, bad_response)",
    ["operation", "outcome"],
)
AGORA_LATENCY = Histogram(
    "agora_request_duration_seconds",
    "Time a call to Agora's RTT API took, retries included, by operation",
    ["operation"],
    # Agora answers in tens to hundreds of ms; the top buckets catch the read timeout (10 s) and retries.
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0),
)
TASK_STARTS = Counter(
    "rtt_task_starts", "Starts answered: a new agent (started) or the channel's running one", ["result"]
)
TASKS_ENDED = Counter("rtt_tasks_ended", "Transcription tasks the registry ended, by reason", ["reason"])
NOTIFICATIONS = Counter(
    "rtt_notifications", "Agora notifications (NCS) received, by event and outcome", ["event", "outcome"]
)

UNMATCHED_ROUTE = "unmatched"  # 404s, 405s: one label, whatever path was asked for
AGORA_OPERATIONS = frozenset({"join", "query", "leave", "update", "list", "other"})
AGORA_OUTCOMES = frozenset({"ok", "1xx", "3xx", "4xx", "5xx", "timeout", "connection", "bad_response"})
START_RESULTS = frozenset({"started", "already_running"})
# stale: applied to nothing (a 101 after its 102); unknown_agent, ignored: acknowledged only.
NOTIFICATION_OUTCOMES = frozenset(
    {"accepted", "duplicate", "bad_signature", "invalid", "stale", "unknown_agent", "ignored"}
)
# Agora's eventType for RTT 7.x (agora-rtt-api.md, section 9); any other counts as "other".
NOTIFICATION_EVENTS = {101: "agent_joined", 102: "agent_left"}
# End reasons as the registry and Agora word them -> label. Anything else is "other": add new ones here.
END_REASONS = {
    "stopped": "stopped",  # POST /api/rtt/stop.json
    "gone": "gone",  # Agora answered 404 for the task
    "ended at agora": "ended_at_agora",  # Agora's list shows it ended
    "ok": "ok",  # Agora's message for a normal end
    "idle for too long": "idle",
    "failed": "failed",
    "rtc connection error": "rtc_connection_error",
    "fatal asr error": "asr_error",
    "fatal translation error": "translation_error",
    "max_duration": "max_duration",  # MAX_TASK_SECONDS (api/rtt/sweeper.py)
}
_METHODS = frozenset({"GET", "POST", "OPTIONS", "HEAD", "DELETE", "PUT", "PATCH"})


def count_task(result: str) -> None:
    """A start was answered: `started` (a new agent joined) or `already_running` (the channel's task)."""
    if result not in START_RESULTS:
        raise ValueError(f"result must be one of {sorted(START_RESULTS)}, not {result!r}")
    TASK_STARTS.labels(result).inc()


def count_task_ended(reason: str) -> None:
    """The registry ended a task; `reason` as stored (Agora's message or ours), mapped to a bounded label."""
    TASKS_ENDED.labels(END_REASONS.get(str(reason).strip().lower(), "other")).inc()


def count_notification(event: int | str, outcome: str) -> None:
    """An Agora notification: its eventType (101, 102; "unknown" before its signature is verified) and outcome.

    `outcome`: accepted, duplicate (a noticeId seen before), bad_signature, or invalid (not a notification).
    """
    if outcome not in NOTIFICATION_OUTCOMES:
        raise ValueError(f"outcome must be one of {sorted(NOTIFICATION_OUTCOMES)}, not {outcome!r}")
    try:
        label = NOTIFICATION_EVENTS.get(int(event), "other")
    except (TypeError, ValueError):
        label = "unknown"  # a body whose eventType cannot be trusted or read
    NOTIFICATIONS.labels(label, outcome).inc()


def observe_agora(operation: str, outcome: str, seconds: float) -> None:
    """One call to Agora: its operation (join, query, leave, update, list, other), outcome and duration."""
    if operation not in AGORA_OPERATIONS or outcome not in AGORA_OUTCOMES:
        raise ValueError(f"unknown Agora operation {operation!r} or outcome {outcome!r}")
    AGORA_REQUESTS.labels(operation, outcome).inc()
    AGORA_LATENCY.labels(operation).observe(seconds)


class RequestCounter:
    """WSGI middleware: counts every answer by the url rule Flask matched, the method and the status.

    Cheaper than an after_request hook (bench/tokens' hot path), and it sees every answer,
    errors included. A counter child per label set is cached: `labels()` takes a lock each call.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._children: dict[tuple[str, str, str], Any] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start_and_count(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # Flask is still inside the request here: its request object is in the environ.
            request = environ.get("werkzeug.request")
            rule = request.url_rule if request is not None else None
            method = environ.get("REQUEST_METHOD", "")
            route = rule.rule if rule is not None else UNMATCHED_ROUTE
            key = (route, method if method in _METHODS else "other", status[:3])
            child = self._children.get(key)
            if child is None:
                child = self._children.setdefault(key, HTTP_REQUESTS.labels(*key))
            child.inc()
            return start_response(status, headers, exc_info)

        return self.app(environ, start_and_count)


def init_app(app: Flask) -> None:
    """Count the app's answers, and its calls to Agora (make_request finds observe_agora here)."""
    app.wsgi_app = RequestCounter(app.wsgi_app)  # type: ignore[method-assign]
    app.extensions["observe_agora"] = observe_agora


class _RunningTasks:
    """The running tasks, read from the shared store when scraped: the same figure from any worker."""

    def __init__(self, running: Callable[[], list[Any]]) -> None:
        self.running = running

    def collect(self) -> Iterator[Metric]:
        try:
            running = len(self.running())
        except (sqlite3.Error, redis.RedisError) as exc:
            # The counters still matter most when the store is down; the gauge's absence says it is.
            logger.warning("rtt_tasks_running left out: the task registry did not answer (%s)", type(exc).__name__)
            return
        yield GaugeMetricFamily("rtt_tasks_running", "Transcription tasks the registry holds as running", value=running)


class _ThisProcess:
    """prometheus-client's own registry of this process, for a scrape without multiprocess mode."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


@bp.get("/metrics")
def get() -> Response:
    """The Prometheus text format: every worker's counters summed, plus the running tasks."""
    registry = CollectorRegistry()  # a fresh one per scrape, as prometheus-client's multiprocess docs say
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())
    registry.register(_RunningTasks(current_app.extensions["state"].running_tasks))
    # The classic text format (0.0.4), which every Prometheus version reads; names here need no escaping.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)
