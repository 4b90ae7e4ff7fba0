import pytest
import requests
from responses import matchers

from tests.conftest import BASIC, RTT_BASE

AGENT = f"{RTT_BASE}/agents/AGENT123"


def query(client, path="/api/rtt/query.json", **body):
    return client.post(path, json=body)


def test_query_reports_agoras_status(client, agora):
    agora.get(
        AGENT,
        json={"message": "ok", "agent_id": "AGENT123", "create_ts": 1732500000, "status": "RUNNING"},
        match=[matchers.header_matcher({"Authorization": BASIC})],
    )
    response = query(client, taskId="AGENT123")
    assert response.status_code == 200
    assert response.get_json() == {"taskId": "AGENT123", "status": "RUNNING", "createTs": 1732500000, "message": "ok"}


def test_the_astro_path_accepts_and_ignores_a_builder_token(client, agora):
    agora.get(AGENT, json={"agent_id": "AGENT123", "create_ts": 1, "status": "STOPPED"})
    data = query(client, "/api/transcription/query.json", taskId="AGENT123", builderToken="old").get_json()
    assert data == {"taskId": "AGENT123", "status": "STOPPED", "createTs": 1}


def test_unknown_task_is_a_404(client, agora):
    agora.get(AGENT, status=404, json={"detail": "agent not found", "reason": "TaskNotFound"})
    response = query(client, taskId="AGENT123")
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("task_not_found", "taskId")
    assert "agent not found" in error["agoraReason"]


def test_a_query_is_retried_after_a_503(client, agora):
    agora.get(AGENT, status=503, json={"detail": "busy"})
    agora.get(AGENT, json={"agent_id": "AGENT123", "create_ts": 1, "status": "RUNNING"})
    assert query(client, taskId="AGENT123").get_json()["status"] == "RUNNING"
    assert len(agora.calls) == 2


def test_a_query_is_retried_after_a_short_retry_after(client, agora):
    agora.get(AGENT, status=429, json={"detail": "slow down"}, headers={"Retry-After": "1"})
    agora.get(AGENT, json={"agent_id": "AGENT123", "create_ts": 1, "status": "RUNNING"})
    assert query(client, taskId="AGENT123").status_code == 200


def test_a_long_retry_after_is_passed_on_instead_of_waited_out(client, agora):
    agora.get(AGENT, status=429, json={"detail": "slow down"}, headers={"Retry-After": "30"})
    response = query(client, taskId="AGENT123")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert len(agora.calls) == 1


def test_retries_give_up_and_report_the_last_answer(client, agora):
    for _ in range(3):
        agora.get(AGENT, status=503, json={"detail": "busy"})
    response = query(client, taskId="AGENT123")
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "agora_unavailable"
    assert len(agora.calls) == 3


def test_a_timeout_is_a_504(client, agora):
    agora.get(AGENT, body=requests.ReadTimeout("slow"))
    assert query(client, taskId="AGENT123").status_code == 504


def test_a_status_missing_from_agoras_answer_is_an_upstream_fault(client, agora):
    agora.get(AGENT, json={"agent_id": "AGENT123"})
    assert query(client, taskId="AGENT123").get_json()["error"]["code"] == "agora_unavailable"


@pytest.mark.parametrize("task_id", [None, "", "../join", "a/b", "a?b", "x" * 129, 123, ["AGENT123"]])
def test_a_bad_task_id_is_refused_before_agora_is_called(client, agora, task_id):
    body = {} if task_id is None else {"taskId": task_id}
    response = client.post("/api/rtt/query.json", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "taskId"
