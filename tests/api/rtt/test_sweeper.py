"""The duration cap's sweep, called directly with its clock moved by hand (no waiting).

Agora is mocked at the network edge; the registry is a real SQLite store shared by two apps,
as two workers share it. The thread that runs the sweep is tested under gunicorn (tests/e2e).
"""

import pytest

from api import create_app
from api.rtt.sweeper import LEAVE_RETRY_SECONDS, sweep
from state import Task
from state.sqlite_store import SqliteStore
from tests.clock import FakeClock
from tests.conftest import LIVE, RTT_BASE

CAP = 600
INTERVAL = 10.0


@pytest.fixture
def clock():
    return FakeClock()


def worker(tmp_path, clock, **settings):
    """An app as one worker sees it: the shared registry file, on the test's clock."""
    app = create_app({"TESTING": True, "MAX_TASK_SECONDS": CAP, "SWEEP_INTERVAL_SECONDS": INTERVAL, **LIVE, **settings})
    app.extensions["state"] = SqliteStore(str(tmp_path / "shared.sqlite3"), clock=clock)
    return app


@pytest.fixture
def app(tmp_path, clock):
    return worker(tmp_path, clock)


def record(app, task_id, age, channel=None):
    created = int(app.extensions["state"].clock() - age)
    task = Task(task_id=task_id, channel=channel or f"ch-{task_id}", status="RUNNING", create_ts=created)
    return app.extensions["state"].record_task(task)


def leave_url(task_id):
    return f"{RTT_BASE}/agents/{task_id}/leave"


def test_a_task_past_the_cap_is_stopped_and_ended_as_max_duration(app, agora, clock):
    record(app, "OLD", CAP + 1)
    record(app, "YOUNG", CAP - 5)
    agora.post(leave_url("OLD"))
    assert sweep(app, now=clock()) == ["OLD"]
    assert [call.request.url for call in agora.calls] == [leave_url("OLD")]
    registry = app.extensions["state"]
    ended = registry.get_task("OLD")
    assert (ended.status, ended.end_reason, ended.ended_ts) == ("STOPPED", "max_duration", round(clock(), 3))
    assert registry.task_for_channel("ch-OLD") is None
    assert [task.task_id for task in registry.running_tasks()] == ["YOUNG"]
    queried = app.test_client().post("/api/rtt/query.json", json={"channel": "ch-OLD"}).get_json()
    assert (queried["status"], queried["endedReason"]) == ("STOPPED", "max_duration")


def test_one_sweeper_acts_at_a_time_across_workers(tmp_path, app, agora, clock):
    other = worker(tmp_path, clock)
    record(app, "OLD", CAP + 1)
    agora.post(leave_url("OLD"))
    assert sweep(app, now=clock()) == ["OLD"]
    record(app, "LATER", CAP + 1)
    assert sweep(other, now=clock()) == []  # the lease is held for this interval
    assert sweep(app, now=clock()) == []  # by the one that took it too
    clock.advance(INTERVAL)
    agora.post(leave_url("LATER"))
    assert sweep(other, now=clock()) == ["LATER"]
    assert len(agora.calls) == 2


def test_a_failed_leave_is_not_repeated_by_every_sweep_and_is_retried_later(tmp_path, app, agora, clock):
    other = worker(tmp_path, clock)
    record(app, "OLD", CAP + 1)
    agora.post(leave_url("OLD"), status=503, json={"detail": "busy"})
    assert sweep(app, now=clock()) == []
    assert not app.extensions["state"].get_task("OLD").ended  # still billed: not forgotten
    for _ in range(3):  # every later sweep within the retry time, on any worker: no second call
        clock.advance(INTERVAL)
        assert sweep(other, now=clock()) == []
    assert len(agora.calls) == 1
    clock.advance(LEAVE_RETRY_SECONDS)
    agora.post(leave_url("OLD"))
    assert sweep(other, now=clock()) == ["OLD"]
    assert len(agora.calls) == 2


def test_a_task_agora_no_longer_knows_is_ended_too(app, agora, clock):
    record(app, "GONE", CAP * 2)
    agora.post(leave_url("GONE"), status=404, json={"detail": "not found", "reason": "TaskNotFound"})
    assert sweep(app, now=clock()) == ["GONE"]
    assert app.extensions["state"].get_task("GONE").end_reason == "max_duration"


def test_an_ended_task_is_not_swept(app, agora, clock):
    record(app, "DONE", CAP * 2)
    app.extensions["state"].end_task("DONE", status="STOPPED", reason="Idle for too long", at=clock())
    assert sweep(app, now=clock()) == []
    assert app.extensions["state"].get_task("DONE").end_reason == "Idle for too long"


def test_without_a_cap_nothing_is_swept(tmp_path, agora, clock):
    app = worker(tmp_path, clock, MAX_TASK_SECONDS=None)
    record(app, "ANCIENT", 10**6)
    assert sweep(app, now=clock()) == []
    hooks = [hook.__name__ for hook in app.before_request_funcs.get(None, [])]
    assert "start_duration_sweeper" not in hooks  # and no thread is started by a request
    capped = [hook.__name__ for hook in worker(tmp_path, clock).before_request_funcs[None]]
    assert "start_duration_sweeper" in capped


def test_the_cap_setting_is_checked():
    from api.settings import ConfigError

    with pytest.raises(ConfigError, match="MAX_TASK_SECONDS must be an integer from 1 to 2592000"):
        create_app({**LIVE, "MAX_TASK_SECONDS": "forever"})
    with pytest.raises(ConfigError, match="SWEEP_INTERVAL_SECONDS"):
        create_app({**LIVE, "SWEEP_INTERVAL_SECONDS": "0"})


def test_a_capped_task_is_counted_as_ended_by_max_duration(app, agora, clock):
    from tests.api.test_metrics import rise, scrape

    record(app, "OLD", CAP + 1)
    agora.post(leave_url("OLD"))
    before = scrape(app.test_client())
    sweep(app, now=clock())
    after = scrape(app.test_client())
    assert rise(before, after, "rtt_tasks_ended_total", reason="max_duration") == 1
