import os

import pytest
import requests

from tests.servers import start_gunicorn


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The service in sandbox mode under gunicorn: 3 workers, zero configuration.

    Rate limits are off (flask-limiter's own switch): these tests check behaviour, and a burst of
    them must not be cut by a limit; tests/e2e/test_hardening.py checks the limits on its own server.
    """
    running = start_gunicorn(
        tmp_path_factory.mktemp("e2e"), env={"AGORA_READ_TIMEOUT": "1.5", "RATELIMIT_ENABLED": "false"}
    )
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture(autouse=True)
def _no_fault_outlives_its_test(request):
    """A fault a test queued and did not use would hit the next test's call: clear them all."""
    yield
    if "server" in request.fixturenames:
        server = request.getfixturevalue("server")
        requests.delete(f"{server.url}/sandbox/faults", timeout=10).raise_for_status()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright; browsers are never downloaded at run time."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI sets REQUIRE_BROWSER=1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield launched
        launched.close()


def open_demo_page(context, url, prepare=None):
    """The demo page in a new tab of `context`, loaded and out of a call; its page errors in `.problems`.

    `prepare(page)` runs before the page loads (a fake clock, an init script, more listeners).
    """
    opened = context.new_page()
    opened.problems = []
    opened.on("pageerror", lambda error: opened.problems.append(str(error)))
    if prepare is not None:
        prepare(opened)
    opened.goto(url)
    opened.get_by_test_id("status").filter(has_text="Not in a call.").wait_for()
    return opened
