"""The demo page says why captions stopped, within seconds of Agora's notification, in Chromium."""

import json
import time
import uuid

import pytest
import requests

from api.settings import SANDBOX_NCS_SECRET
from api.validation import DEFAULT_MAX_IDLE_TIME
from state.sqlite_store import SqliteStore
from tests.e2e.conftest import open_demo_page
from tests.e2e.test_demo_page import ARTIFACTS, join, start
from tests.servers import start_gunicorn
from utils.ncs_signature import V2_HEADER, sign

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# A few seconds: the page asks every 3 s, and the registry knows as soon as the notification lands.
SHOWN_WITHIN_MS = 8_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Sandbox mode with notifications on (the sandbox's own NCS secret)."""
    folder = tmp_path_factory.mktemp("ncs-page")
    running = start_gunicorn(folder, env={"RATELIMIT_ENABLED": "false", "SANDBOX_NOTIFICATIONS": "true"}, workers=2)
    running.folder = folder
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    yield open_demo_page(context, server.url)
    context.close()


def agora_says_idle(server, task_id, channel):
    """Agora's 102 for an idle timeout, signed and posted as NCS would; the sandbox's agent keeps running."""
    now = int(time.time())
    payload = {
        "agent_id": task_id,
        "channel": channel,
        "message": "Idle for too long",
        "start_ts": now - 5,
        "status": "STOPPED",
        "stop_ts": now,
    }
    body = {"sid": task_id, "noticeId": uuid.uuid4().hex, "productId": 20, "eventType": 102}
    raw = json.dumps({**body, "notifyMs": now * 1000, "payload": payload}, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", V2_HEADER: sign(raw, SANDBOX_NCS_SECRET)}
    answer = requests.post(f"{server.url}/api/rtt/notifications.json", data=raw, headers=headers, timeout=10)
    assert answer.json()["outcome"] == "accepted"


def test_an_idle_timeout_notification_stops_the_captions_on_the_page(page, server):
    channel = f"idle-{uuid.uuid4().hex[:6]}"
    join(page, channel)
    task = start(page).json()
    page.locator('[data-testid="captions"] .caption').first.wait_for(timeout=10_000)  # captions flow
    # Only the notification says the agent ended: the caption stream would go on, so the page
    # can learn it only from the registry (through query.json).
    agora_says_idle(server, task["taskId"], channel)
    status = page.get_by_test_id("status")
    expected = f"Captions stopped: nobody spoke for {DEFAULT_MAX_IDLE_TIME} s."
    status.filter(has_text=expected).wait_for(timeout=SHOWN_WITHIN_MS)
    assert page.get_by_test_id("start-captions").is_enabled()
    assert page.get_by_test_id("stop-captions").is_disabled()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "notification-idle.png")
    assert page.problems == []


def test_a_failure_shows_that_the_transcription_service_failed(page, server):
    channel = f"fail-{uuid.uuid4().hex[:6]}"
    fault = {"op": "join", "fail": "Fatal ASR error", "after": 3}
    assert requests.post(f"{server.url}/sandbox/faults", json=fault, timeout=10).status_code == 201
    join(page, channel)
    task = start(page).json()
    status = page.get_by_test_id("status")
    status.filter(has_text="Captions stopped: the transcription service failed (Fatal ASR error).").wait_for(
        timeout=3_000 + SHOWN_WITHIN_MS
    )
    assert page.get_by_test_id("start-captions").is_enabled()
    page.screenshot(path=ARTIFACTS / "notification-failed.png")
    # The sandbox's own 102 reached the registry too.
    registry = SqliteStore(str(server.folder / "state.sqlite3"))
    deadline = time.monotonic() + 10
    ended = registry.get_task(task["taskId"])
    while not ended.ended and time.monotonic() < deadline:
        time.sleep(0.1)
        ended = registry.get_task(task["taskId"])
    assert (ended.status, ended.end_reason) == ("FAILED", "Fatal ASR error")
    # And a new start makes a new agent at once.
    again = start(page).json()
    assert again["taskId"] != task["taskId"] and again["alreadyRunning"] is False
    assert page.problems == []
