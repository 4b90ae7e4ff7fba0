import pytest
import requests
from responses import matchers

from tests.conftest import BASIC, RTT_BASE

LEAVE = f"{RTT_BASE}/agents/AGENT123/leave"


def stop(client, path="/api/rtt/stop.json", **body):
    return client.post(path, json=body)


def test_stop_asks_the_agent_to_leave(client, agora):
    agora.post(LEAVE, body="", match=[matchers.header_matcher({"Authorization": BASIC})])
    response = stop(client, taskId="AGENT123")
    assert response.status_code == 200
    assert response.get_json() == {"taskId": "AGENT123", "status": "STOPPED"}
    assert agora.calls[0].request.body is None


def test_the_astro_path_accepts_and_ignores_a_builder_token(client, agora):
    agora.post(LEAVE, json={})
    assert stop(client, "/api/transcription/stop.json", taskId="AGENT123", builderToken="old").status_code == 200


@pytest.mark.parametrize("reason", ["agent not found", "agent AGENT123 is not running"])
def test_an_unknown_or_stopped_task_is_a_404(client, agora, reason):
    agora.post(LEAVE, status=404, json={"detail": reason, "reason": "TaskNotFound"})
    response = stop(client, taskId="AGENT123")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "task_not_found"


def test_a_leave_is_not_retried(client, agora):
    agora.post(LEAVE, status=503, json={"detail": "busy"})
    assert stop(client, taskId="AGENT123").status_code == 502
    assert len(agora.calls) == 1


def test_a_timeout_is_a_504(client, agora):
    agora.post(LEAVE, body=requests.ReadTimeout("slow"))
    assert stop(client, taskId="AGENT123").get_json()["error"]["code"] == "agora_timeout"


def test_missing_task_id(client, agora):
    response = client.post("/api/rtt/stop.json", json={})
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid_field", "message": "taskId is required", "field": "taskId"}
