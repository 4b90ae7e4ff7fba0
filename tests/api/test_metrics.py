"""GET /metrics in one process (the Flask client): what is counted, under which labels, behind the key.

The figures live in prometheus-client's process-wide registry, shared by every app a test run
builds, so each test compares a scrape after its requests with one before them.
"""

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from api import create_app, metrics
from tests.conftest import BASIC, LIVE, RTT_BASE
from tests.servers import free_port, redis_server_binary, start_redis

JOINED = {"agent_id": "AGENT-M1", "create_ts": 1732500000, "status": "RUNNING"}
AGENT = f"{RTT_BASE}/agents/AGENT-M1"


def scrape(client, headers=None):
    """Every sample of /metrics, parsed by prometheus-client's own parser: {(name, labels): value}."""
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.data
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def rise(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def test_requests_are_counted_by_route_method_and_status(client):
    before = scrape(client)
    for _ in range(3):
        assert client.post("/api/tokens.json", json={"channel": "demo", "uid": 7}).status_code == 200
    assert client.post("/api/tokens.json", json={"channel": "a/b", "uid": 7}).status_code == 400
    assert client.post("/api/token.json", json={"channel": "demo", "uid": 7}).status_code == 200  # the guide's path
    assert client.get("/healthz").status_code == 200
    after = scrape(client)

    assert rise(before, after, "http_requests_total", route="/api/tokens.json", method="POST", status="200") == 3
    assert rise(before, after, "http_requests_total", route="/api/tokens.json", method="POST", status="400") == 1
    assert rise(before, after, "http_requests_total", route="/api/token.json", method="POST", status="200") == 1
    assert rise(before, after, "http_requests_total", route="/healthz", method="GET", status="200") == 1
    # the scrape before this one is counted too, once it has been answered
    assert rise(before, after, "http_requests_total", route="/metrics", method="GET", status="200") == 1


def test_unknown_paths_and_methods_share_one_label_each(client):
    before = scrape(client)
    for path in ("/nothing", "/api/nothing.json", "/wp-admin/a1b2c3"):
        assert client.get(path).status_code == 404
    assert client.get("/api/rtt/start.json").status_code == 405  # no such method on it
    assert client.open("/healthz", method="BREW").status_code == 405
    after = scrape(client)

    assert rise(before, after, "http_requests_total", route="unmatched", method="GET", status="404") == 3
    assert rise(before, after, "http_requests_total", route="unmatched", method="GET", status="405") == 1
    assert rise(before, after, "http_requests_total", route="unmatched", method="other", status="405") == 1
    routes = {dict(labels)["route"] for name, labels in after if name == "http_requests_total"}
    assert not routes & {"/nothing", "/api/nothing.json", "/wp-admin/a1b2c3"}


def test_the_text_is_prometheus_format_with_every_family_declared(client):
    response = client.get("/metrics")
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {family.name: family.type for family in text_string_to_metric_families(response.get_data(as_text=True))}
    assert {
        "http_requests": "counter",
        "agora_requests": "counter",
        "agora_request_duration_seconds": "histogram",
        "rtt_task_starts": "counter",
        "rtt_tasks_ended": "counter",
        "rtt_notifications": "counter",
        "rtt_tasks_running": "gauge",
    }.items() <= families.items()


def test_the_api_key_guards_metrics_when_keys_are_set():
    secured = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, "API_KEYS": "k1"}).test_client()
    refused = secured.get("/metrics")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    assert secured.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert scrape(secured, {"Authorization": "Bearer k1"})  # parses, with the key
    open_app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE}).test_client()
    assert open_app.get("/metrics").status_code == 200  # no keys set: open, like the rest of the API


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    if redis_server_binary() is None:
        pytest.skip("redis-server is missing (apt-get install redis-server); CI installs it")
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture(params=["sqlite", "redis"])
def any_store_client(request):
    """A client whose registry is SQLite or Redis: a task must be counted ended once with either."""
    redis = {"REDIS_URL": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    return create_app({"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, **redis}).test_client()


def test_start_stop_and_running_tasks(any_store_client, agora):
    client = any_store_client
    agora.post(f"{RTT_BASE}/join", json=JOINED)
    agora.post(f"{AGENT}/leave", body="")
    agora.post(f"{AGENT}/leave", status=404, json={"detail": "not found", "reason": "TaskNotFound"})
    before = scrape(client)
    assert value(before, "rtt_tasks_running") == 0

    assert client.post("/api/rtt/start.json", json={"channel": "m-demo"}).get_json()["alreadyRunning"] is False
    assert client.post("/api/rtt/start.json", json={"channel": "m-demo"}).get_json()["alreadyRunning"] is True
    assert client.post("/api/rtt/start.json", json={"channel": "m-demo"}).get_json()["alreadyRunning"] is True
    running = scrape(client)
    assert value(running, "rtt_tasks_running") == 1
    assert rise(before, running, "rtt_task_starts_total", result="started") == 1
    assert rise(before, running, "rtt_task_starts_total", result="already_running") == 2

    assert client.post("/api/rtt/stop.json", json={"taskId": "AGENT-M1"}).status_code == 200
    assert client.post("/api/rtt/stop.json", json={"taskId": "AGENT-M1"}).status_code == 404
    after = scrape(client)
    assert value(after, "rtt_tasks_running") == 0
    # ended once: the second stop finds it gone, but it had already ended
    assert rise(before, after, "rtt_tasks_ended_total", reason="stopped") == 1
    assert rise(before, after, "rtt_tasks_ended_total", reason="gone") == 0
    assert rise(before, after, "agora_requests_total", operation="join", outcome="ok") == 1
    assert rise(before, after, "agora_requests_total", operation="leave", outcome="ok") == 1
    assert rise(before, after, "agora_requests_total", operation="leave", outcome="4xx") == 1
    assert rise(before, after, "agora_request_duration_seconds_count", operation="leave") == 2
    assert rise(before, after, "agora_request_duration_seconds_bucket", operation="join", le="+Inf") == 1


def test_a_query_that_finds_the_agent_ended_counts_agoras_reason(client, agora):
    agora.post(f"{RTT_BASE}/join", json=JOINED)
    stopped = {**JOINED, "status": "STOPPED", "message": "Idle for too long"}
    agora.get(AGENT, json=stopped)
    client.post("/api/rtt/start.json", json={"channel": "m-idle"})
    before = scrape(client)
    for _ in range(2):  # the second query learns nothing new: counted once
        assert client.post("/api/rtt/query.json", json={"taskId": "AGENT-M1"}).get_json()["status"] == "STOPPED"
    after = scrape(client)
    assert rise(before, after, "rtt_tasks_ended_total", reason="idle") == 1
    # The second is answered by the registry, which knows the task has ended: Agora is asked once.
    assert rise(before, after, "agora_requests_total", operation="query", outcome="ok") == 1


def test_an_agent_agora_does_not_know_ends_as_gone(client, agora):
    agora.post(f"{RTT_BASE}/join", json=JOINED)
    agora.get(AGENT, status=404, json={"detail": "no such agent", "reason": "TaskNotFound"})
    client.post("/api/rtt/start.json", json={"channel": "m-gone"})
    before = scrape(client)
    assert client.post("/api/rtt/query.json", json={"taskId": "AGENT-M1"}).status_code == 404
    after = scrape(client)
    assert rise(before, after, "rtt_tasks_ended_total", reason="gone") == 1
    assert rise(before, after, "agora_requests_total", operation="query", outcome="4xx") == 1


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ({"status": 503, "json": {"detail": "busy"}}, "5xx"),
        ({"status": 401, "json": {"detail": "bad credential"}}, "4xx"),
        ({"body": requests.ConnectionError("refused")}, "connection"),
        ({"body": requests.ReadTimeout("slow")}, "timeout"),
        ({"body": "<html>oops</html>"}, "bad_response"),
    ],
)
def test_agora_failures_are_counted_by_outcome(client, agora, reply, outcome):
    agora.post(f"{RTT_BASE}/join", **reply)
    before = scrape(client)
    assert client.post("/api/rtt/start.json", json={"channel": f"m-{outcome}"}).status_code in (502, 504)
    after = scrape(client)
    assert rise(before, after, "agora_requests_total", operation="join", outcome=outcome) == 1
    assert rise(before, after, "agora_request_duration_seconds_count", operation="join") == 1
    assert rise(before, after, "rtt_task_starts_total", result="started") == 0


def test_the_task_list_is_the_list_operation(client, agora):
    agora.get(f"{RTT_BASE}/agents", json={"data": {"count": 0, "list": []}, "meta": {"total": 0}})
    before = scrape(client)
    assert client.get("/api/rtt/tasks.json").get_json() == {"tasks": []}
    assert rise(before, scrape(client), "agora_requests_total", operation="list", outcome="ok") == 1


def test_notification_helper_bounds_its_labels(client):
    before = scrape(client)
    metrics.count_notification(101, "accepted")
    metrics.count_notification("102", "accepted")
    metrics.count_notification(102, "duplicate")
    metrics.count_notification(999, "accepted")
    metrics.count_notification(None, "bad_signature")
    after = scrape(client)
    assert rise(before, after, "rtt_notifications_total", event="agent_joined", outcome="accepted") == 1
    assert rise(before, after, "rtt_notifications_total", event="agent_left", outcome="accepted") == 1
    assert rise(before, after, "rtt_notifications_total", event="agent_left", outcome="duplicate") == 1
    assert rise(before, after, "rtt_notifications_total", event="other", outcome="accepted") == 1
    assert rise(before, after, "rtt_notifications_total", event="unknown", outcome="bad_signature") == 1
    with pytest.raises(ValueError, match="outcome must be one of"):
        metrics.count_notification(101, "ok")


def test_end_reasons_and_start_results_are_a_fixed_set(client):
    before = scrape(client)
    metrics.count_task_ended("Fatal ASR error")
    metrics.count_task_ended("something Agora never documented")
    after = scrape(client)
    assert rise(before, after, "rtt_tasks_ended_total", reason="asr_error") == 1
    assert rise(before, after, "rtt_tasks_ended_total", reason="other") == 1
    with pytest.raises(ValueError, match="result must be one of"):
        metrics.count_task("adopted?")
    with pytest.raises(ValueError, match="unknown Agora operation"):
        metrics.observe_agora("join", "fine", 0.1)


def test_a_registry_that_does_not_answer_leaves_out_only_the_running_gauge(caplog):
    unreachable = {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}  # nothing listens there
    client = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, **unreachable}).test_client()
    client.get("/healthz")
    samples = scrape(client)
    assert ("rtt_tasks_running", frozenset()) not in samples
    assert value(samples, "http_requests_total", route="/healthz", method="GET", status="200") >= 1
    assert "rtt_tasks_running left out: the task registry did not answer (ConnectionError)" in caplog.text


def test_no_secret_is_exposed(client, agora):
    agora.post(f"{RTT_BASE}/join", status=401, json={"detail": "bad credential"})
    client.post("/api/rtt/start.json", json={"channel": "m-secret"})
    text = client.get("/metrics").get_data(as_text=True)
    for secret in (LIVE["APP_CERTIFICATE"], LIVE["CUSTOMER_SECRET"], BASIC.split()[1]):
        assert secret not in text
