"""One task per channel: start is idempotent, claims are atomic, Agora's word is written back.

Agora is mocked at the network edge; the registry is the real SQLite store of the test's app.
"""

import concurrent.futures
import threading

import pytest
import requests
from responses import matchers

from tests.conftest import RTT_BASE

JOIN = f"{RTT_BASE}/join"
LIST = f"{RTT_BASE}/agents"
JOINED = {"agent_id": "AGENT1", "create_ts": 1732500000, "status": "STARTING"}


def start(client, channel="demo"):
    return client.post("/api/rtt/start.json", json={"channel": channel})


def registry(app):
    return app.extensions["state"]


def test_a_second_start_answers_the_running_task_without_calling_agora(client, agora):
    agora.post(JOIN, json=JOINED)  # registered once: a second join would fail the test
    first = start(client).get_json()
    second = start(client).get_json()
    assert first["alreadyRunning"] is False
    assert second == {**first, "alreadyRunning": True}
    assert len(agora.calls) == 1


def test_racing_starts_for_one_channel_make_one_join(app, agora):
    entered = threading.Event()

    def slow_join(request):
        entered.set()
        threading.Event().wait(0.3)  # Agora takes a while: the others arrive meanwhile
        return 200, {}, '{"agent_id": "RACE1", "create_ts": 1732500000, "status": "STARTING"}'

    agora.add_callback("POST", JOIN, callback=slow_join)
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: start(app.test_client(), "race").get_json(), range(12)))
    assert [call.request.url for call in agora.calls] == [JOIN]
    assert {answer["taskId"] for answer in answers} == {"RACE1"}
    assert sorted(answer["alreadyRunning"] for answer in answers) == [False] + [True] * 11


def test_a_failed_join_frees_the_channel_at_once(client, agora):
    agora.post(JOIN, status=503, json={"detail": "busy", "reason": "ServiceUnavailable"})
    agora.post(JOIN, json=JOINED)
    assert start(client).status_code == 502
    retried = start(client)
    assert (retried.status_code, retried.get_json()["taskId"]) == (200, "AGENT1")
    assert [call.request.url for call in agora.calls] == [JOIN, JOIN]  # no list: the failure was certain


def test_after_a_timed_out_join_the_next_start_asks_agora_first_and_adopts(client, agora, app):
    agora.post(JOIN, body=requests.ReadTimeout("slow"))
    agora.get(
        LIST,
        match=[matchers.query_param_matcher({"channel": "demo", "limit": "100"})],
        json={
            "data": {
                "count": 2,
                "list": [
                    {"agent_id": "OLD", "start_ts": 1732400000, "status": "STOPPED"},
                    {"agent_id": "LATE", "start_ts": 1732500000, "status": "RUNNING"},
                ],
            },
            "meta": {"cursor": "", "total": 2},
        },
    )
    assert start(client).status_code == 504
    adopted = start(client).get_json()
    assert (adopted["taskId"], adopted["alreadyRunning"], adopted["createTs"]) == ("LATE", True, 1732500000)
    assert registry(app).task_for_channel("demo").adopted is True
    assert start(client).get_json()["taskId"] == "LATE"  # and it is the channel's task from now on


def test_a_claim_left_by_a_dead_worker_expires_and_agora_is_asked_before_joining(client, agora, app):
    registry(app).claim_channel("demo", "worker-killed-mid-join", 0.0)  # its lease is already over
    agora.get(LIST, json={"data": {"count": 0, "list": []}, "meta": {"cursor": "", "total": 0}})
    agora.post(JOIN, json=JOINED)
    answer = start(client).get_json()
    assert (answer["taskId"], answer["alreadyRunning"]) == ("AGENT1", False)
    assert [call.request.method for call in agora.calls] == ["GET", "POST"]


def test_query_and_stop_by_channel(client, agora):
    agora.post(JOIN, json=JOINED)
    agora.get(f"{RTT_BASE}/agents/AGENT1", json={**JOINED, "status": "RUNNING", "message": "ok"})
    agora.post(f"{RTT_BASE}/agents/AGENT1/leave", body="")
    start(client)
    queried = client.post("/api/rtt/query.json", json={"channel": "demo"}).get_json()
    assert (queried["taskId"], queried["status"], queried["channel"]) == ("AGENT1", "RUNNING", "demo")
    stopped = client.post("/api/rtt/stop.json", json={"channel": "demo"}).get_json()
    assert stopped == {"taskId": "AGENT1", "status": "STOPPED", "channel": "demo"}
    again = client.post("/api/rtt/stop.json", json={"channel": "demo"})
    assert (again.status_code, again.get_json()["error"]["code"], again.get_json()["error"]["field"]) == (
        404,
        "task_not_found",
        "channel",
    )


@pytest.mark.parametrize("path", ["/api/rtt/query.json", "/api/rtt/stop.json"])
def test_an_unknown_channel_is_task_not_found(client, path):
    response = client.post(path, json={"channel": "nobody-here"})
    assert response.status_code == 404
    assert response.get_json()["error"] == {
        "code": "task_not_found",
        "message": "No transcription task is running in channel 'nobody-here'.",
        "field": "channel",
    }


def test_a_task_agora_reports_ended_is_ended_and_the_next_start_joins_again(client, agora, app):
    agora.post(JOIN, json=JOINED)
    agora.get(f"{RTT_BASE}/agents/AGENT1", json={**JOINED, "status": "STOPPED", "message": "Idle for too long"})
    agora.post(JOIN, json={**JOINED, "agent_id": "AGENT2"})
    start(client)
    queried = client.post("/api/rtt/query.json", json={"taskId": "AGENT1"}).get_json()
    assert (queried["status"], queried["endedReason"]) == ("STOPPED", "Idle for too long")
    assert registry(app).get_task("AGENT1").ended
    assert start(client).get_json() == {**start_answer("AGENT2"), "alreadyRunning": False} | bot_uids(client, app)


def start_answer(task_id):
    return {"taskId": task_id, "status": "STARTING", "createTs": 1732500000, "channel": "demo"}


def bot_uids(client, app):
    task = registry(app).task_for_channel("demo")
    return {"pubBotUid": task.pub_bot_uid, "subBotUid": task.sub_bot_uid}


def test_a_task_agora_no_longer_knows_is_ended_on_the_next_read(client, agora, app):
    agora.post(JOIN, json=JOINED)
    agora.get(f"{RTT_BASE}/agents/AGENT1", status=404, json={"detail": "not found", "reason": "TaskNotFound"})
    start(client)
    assert client.post("/api/rtt/query.json", json={"channel": "demo"}).status_code == 404
    assert registry(app).task_for_channel("demo") is None
    assert registry(app).get_task("AGENT1").end_reason == "gone"


def test_tasks_lists_and_reconciles_with_one_list_call(client, agora, app):
    agora.post(JOIN, json=JOINED)
    agora.post(JOIN, json={**JOINED, "agent_id": "AGENT2"})
    start(client, "one")
    start(client, "two")
    store = registry(app)
    store.claim_channel("three", "worker-killed-mid-join", 0.0)
    claimed_at = store.stale_claims()["three"]
    agora.get(
        LIST,
        json={
            "data": {
                "count": 3,
                "list": [
                    {"agent_id": "AGENT1", "start_ts": 1732500000, "status": "RUNNING"},
                    {"agent_id": "ORPHAN", "start_ts": int(claimed_at) + 1, "status": "RUNNING"},
                    {"agent_id": "NOBODYS", "start_ts": 1600000000, "status": "RUNNING"},
                ],
            },
            "meta": {"cursor": "", "total": 3},
        },
    )
    listed = client.get("/api/rtt/tasks.json").get_json()["tasks"]
    assert {(t["taskId"], t["channel"], t["status"]) for t in listed} == {
        ("AGENT1", "one", "RUNNING"),
        ("ORPHAN", "three", "RUNNING"),  # adopted: the join a dead worker made
        ("NOBODYS", None, "RUNNING"),  # running, tied to no channel we know: listed, stoppable by id
    }
    assert store.get_task("AGENT2").ended  # gone from Agora's complete list
    assert store.task_for_channel("three").task_id == "ORPHAN"
    assert len([call for call in agora.calls if call.request.method == "GET"]) == 1


def test_nothing_secret_is_kept_with_a_task(client, agora, app):
    agora.post(JOIN, json=JOINED)
    start(client)
    kept = registry(app).get_task("AGENT1").to_json()
    tokens = ("006" + app.config["APP_ID"], "007eJ")  # what every 006 and 007 token starts with
    for secret in (app.config["APP_CERTIFICATE"], app.config["CUSTOMER_SECRET"], *tokens):
        assert secret not in kept
