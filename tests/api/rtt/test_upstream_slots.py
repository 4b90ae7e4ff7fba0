"""A worker has at most AGORA_POOL_SIZE calls waiting on Agora; one more is shed with 503 agora_busy."""

import json
import threading

from api import create_app
from tests.conftest import LIVE, RTT_BASE

JOIN = f"{RTT_BASE}/join"
JOINED = {"agent_id": "AGENT123", "create_ts": 1732500000, "status": "RUNNING"}


def test_a_start_beyond_the_pooled_connections_is_shed_and_frees_its_channel(agora):
    app = create_app(
        {"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, "AGORA_POOL_SIZE": 1, "AGORA_CONNECT_TIMEOUT": 0.2}
    )
    inside, release = threading.Event(), threading.Event()

    def slow_join(request):
        inside.set()
        release.wait(30)  # bounded, so that a broken test ends
        return 200, {}, json.dumps(JOINED)

    agora.add_callback("POST", JOIN, callback=slow_join)
    first = {}
    holder = threading.Thread(
        target=lambda: first.update(answer=app.test_client().post("/api/rtt/start.json", json={"channel": "one"}))
    )
    holder.start()
    try:
        assert inside.wait(30)  # the first start holds the only connection, waiting on Agora
        shed = app.test_client().post("/api/rtt/start.json", json={"channel": "two"})
    finally:
        release.set()
        holder.join(30)

    assert shed.status_code == 503
    assert shed.headers["Retry-After"] == "1"
    error = shed.get_json()["error"]
    assert error["code"] == "agora_busy"
    assert error["message"] == "All 1 of this server's connections to Agora are waiting on it; retry after Retry-After."
    assert first["answer"].status_code == 200
    assert len(agora.calls) == 1  # the shed start never reached Agora

    # Its channel was not left claimed, and the slot is free again: the retry joins at once.
    agora.post(JOIN, json={**JOINED, "agent_id": "AGENT456"})
    again = app.test_client().post("/api/rtt/start.json", json={"channel": "two"})
    assert again.status_code == 200
    assert (again.get_json()["taskId"], again.get_json()["alreadyRunning"]) == ("AGENT456", False)


def test_a_failed_call_gives_its_slot_back(agora):
    app = create_app(
        {"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, "AGORA_POOL_SIZE": 1, "AGORA_CONNECT_TIMEOUT": 0.2}
    )
    agora.post(JOIN, status=500, json={"detail": "boom"})
    agora.post(JOIN, json=JOINED)
    client = app.test_client()
    failed = client.post("/api/rtt/start.json", json={"channel": "one"})
    assert failed.get_json()["error"]["code"] == "agora_unavailable"
    assert client.post("/api/rtt/start.json", json={"channel": "one"}).status_code == 200
