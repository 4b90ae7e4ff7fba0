"""The service through deploy/serve: the flow, the proxy headers, the caption stream, static files."""

import hashlib
import re
import time

import pytest
import requests

from api.settings import SANDBOX_CREDENTIALS
from tests.deploy.conftest import start_serve
from tests.deploy.raw_http import exchange, token_request
from tests.servers import ROOT
from tests.tokens import PUBLISHER_PRIVILEGES, assert_token

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    # One worker, so that the per-client token budget below is counted in one place.
    env = {"WEB_CONCURRENCY": "1", "RATELIMIT_TOKENS": "3 per minute"}
    running = start_serve(tmp_path_factory.mktemp("through-nginx"), env)
    yield running
    assert running.stop() == 0, running.log()


def nginx_log_line(served, request_id):
    """nginx's access line for `request_id` (its log is flushed every second: poll for it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for line in served.log().splitlines():
            if line.endswith(f"request_id={request_id}"):
                return line
        time.sleep(0.1)
    raise AssertionError(f"no access line for {request_id}:\n{served.log()}")


def test_a_token_then_start_query_stop(served):
    minted = exchange(served.port, token_request(), source="127.0.0.20")
    assert minted.status == 200
    data = minted.json()
    assert_token(
        data["token"],
        channel="deploy",
        uid=1234,
        privileges=PUBLISHER_PRIVILEGES,
        expires_at=data["expiresAt"],
        app_id=SANDBOX_CREDENTIALS["APP_ID"],
        cert=SANDBOX_CREDENTIALS["APP_CERTIFICATE"],
    )
    started = requests.post(f"{served.url}/api/rtt/start.json", json={"channel": "deploy"}, timeout=10)
    assert started.status_code == 200, started.text
    task_id = started.json()["taskId"]
    queried = requests.post(f"{served.url}/api/rtt/query.json", json={"taskId": task_id}, timeout=10)
    assert queried.json()["status"] in ("STARTING", "RUNNING")
    stopped = requests.post(f"{served.url}/api/rtt/stop.json", json={"taskId": task_id}, timeout=10)
    assert (stopped.json()["taskId"], stopped.json()["status"]) == (task_id, "STOPPED")


def test_the_clients_request_id_is_passed_through_and_logged(served):
    answer = requests.get(f"{served.url}/healthz", headers={"X-Request-ID": "client-id-42"}, timeout=5)
    assert answer.headers["X-Request-ID"] == "client-id-42"
    line = nginx_log_line(served, "client-id-42")
    assert '"GET /healthz HTTP/1.1" 200' in line


def test_without_a_usable_request_id_one_id_is_made_for_nginx_and_the_service(served):
    answer = requests.get(f"{served.url}/healthz", headers={"X-Request-ID": "has spaces"}, timeout=5)
    made = answer.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert '"GET /healthz HTTP/1.1" 200' in nginx_log_line(served, made)


def test_the_client_address_is_nginxs_view_not_what_the_client_claims(served):
    # RATELIMIT_TOKENS is 3 per minute per client address. Each request claims another
    # address in X-Forwarded-For; the service must count them all for 127.0.0.30.
    statuses = [
        exchange(served.port, token_request(b"X-Forwarded-For: 198.51.100.%d\r\n" % n), source="127.0.0.30").status
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    assert exchange(served.port, token_request(), source="127.0.0.31").status == 200


def test_a_clients_forwarded_ssl_header_neither_fakes_https_nor_breaks_the_request(served):
    # gunicorn trusts X-Forwarded-Ssl from its socket; against nginx's X-Forwarded-Proto it
    # would answer 400 in HTML. nginx drops the client's.
    answer = requests.get(f"{served.url}/healthz", headers={"X-Forwarded-Ssl": "on"}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


def test_static_files_versioned_by_the_page_are_cached_for_a_year(served):
    page = requests.get(f"{served.url}/", timeout=5).text
    url = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{12})"', page).group(1)
    versioned = requests.get(served.url + url, timeout=5)
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert versioned.headers["Content-Type"] == "text/css"
    assert versioned.content == (ROOT / "api/static/app.css").read_bytes()
    assert url.endswith(hashlib.sha256(versioned.content).hexdigest()[:12])
    plain = requests.get(f"{served.url}/static/captions.js", timeout=5)  # imported by app.js, unversioned
    assert plain.headers["Cache-Control"] == "no-cache"
    assert plain.headers["Content-Type"] == "text/javascript"
    revalidated = requests.get(
        f"{served.url}/static/captions.js", headers={"If-None-Match": plain.headers["ETag"]}, timeout=5
    )
    assert revalidated.status_code == 304


def test_the_caption_stream_is_not_buffered(served):
    started = requests.post(f"{served.url}/api/rtt/start.json", json={"channel": "stream"}, timeout=10)
    task_id = started.json()["taskId"]
    with requests.get(f"{served.url}/sandbox/captions/{task_id}", stream=True, timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        # The stream's first event arrives while the task runs: had nginx buffered the stream,
        # nothing would come before the task ends (the read timeout, 10 s, would fail the test).
        assert next(lines) == b"retry: 1000"
        requests.post(f"{served.url}/api/rtt/stop.json", json={"taskId": task_id}, timeout=10)
        rest = b"\n".join(lines)
    assert b"event: end" in rest
