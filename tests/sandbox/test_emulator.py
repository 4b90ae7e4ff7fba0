"""The emulator must refuse what Agora would refuse, or the sandbox would hide our bugs."""

import base64
import time

import pytest
from agora_token_builder.RtcTokenBuilder import Role_Publisher, Role_Subscriber, RtcTokenBuilder

from sandbox.emulator import DELAY_HEADER, DISCONNECT_HEADER, create_emulator
from sandbox.store import STARTUP_SECONDS

APP_ID = "0123456789abcdef0123456789abcdef"
CERT = "fedcba9876543210fedcba9876543210"
BASE = f"/api/speech-to-text/v1/projects/{APP_ID}"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"cid:csecret").decode()}


@pytest.fixture
def agora(store):
    app = create_emulator(store, app_id=APP_ID, app_certificate=CERT, customer_id="cid", customer_secret="csecret")
    return app.test_client()


def token(uid, channel="demo", role=Role_Publisher, expires=None):
    return RtcTokenBuilder.buildTokenWithUid(
        APP_ID, CERT, channel, uid, role, expires or int(time.time()) + 86_400
    )  # outlives any run of the suite


def join_body(name="task-1", channel="demo", pub="4000000001", sub="4000000002", **overrides):
    body = {
        "name": name,
        "languages": ["en-US"],
        "maxIdleTime": 30,
        "rtcConfig": {
            "channelName": channel,
            "pubBotUid": pub,
            "pubBotToken": token(int(pub), channel),
            "subBotUid": sub,
            "subBotToken": token(int(sub), channel),
        },
    }
    body.update(overrides)
    return body


def join(agora, body=None, headers=AUTH):
    return agora.post(f"{BASE}/join", json=body or join_body(), headers=headers)


def test_join_query_leave_lifecycle(agora, clock):
    joined = join(agora)
    assert joined.status_code == 200
    data = joined.get_json()
    assert set(data) == {"agent_id", "create_ts", "status"}
    assert data["status"] == "STARTING"
    assert joined.headers["X-Request-ID"]
    agent = f"{BASE}/agents/{data['agent_id']}"

    clock.advance(STARTUP_SECONDS)
    assert agora.get(agent, headers=AUTH).get_json()["status"] == "RUNNING"
    left = agora.post(f"{agent}/leave", headers=AUTH)
    assert (left.status_code, left.get_data()) == (200, b"")
    assert agora.get(agent, headers=AUTH).get_json()["status"] == "STOPPED"
    assert agora.post(f"{agent}/leave", headers=AUTH).status_code == 404


def test_unknown_agent_is_404(agora):
    response = agora.get(f"{BASE}/agents/NOPE", headers=AUTH)
    assert response.status_code == 404
    assert set(response.get_json()) == {"detail", "reason"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"cid:wrong").decode()},
        {"Authorization": "Bearer x"},
        {"Authorization": "Basic !!!"},
    ],
)
def test_bad_credentials_are_401(agora, headers):
    assert join(agora, headers=headers).status_code == 401


def test_another_projects_app_id_is_refused(agora):
    response = agora.post(f"/api/speech-to-text/v1/projects/{'f' * 32}/join", json=join_body(), headers=AUTH)
    assert response.status_code == 403


def _without(path):
    body = join_body()
    target = body
    *parents, leaf = path.split(".")
    for key in parents:
        target = target[key]
    del target[leaf]
    return body


def _with(path, value):
    body = join_body()
    target = body
    *parents, leaf = path.split(".")
    for key in parents:
        target = target[key]
    target[leaf] = value
    return body


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (_without("name"), "name is required"),
        (_with("name", "x" * 65), "name is required"),
        (_without("languages"), "languages"),
        (_with("languages", ["en-US"] * 5), "languages"),
        (_with("languages", ["klingon"]), "not supported"),
        (_with("maxIdleTime", 4), "maxIdleTime"),
        (_without("rtcConfig"), "rtcConfig is required"),
        (_with("rtcConfig.channelName", "a/b"), "channelName"),
        (_with("rtcConfig.pubBotUid", 4000000001), "pubBotUid must be a uid"),
        (_with("rtcConfig.pubBotUid", "0"), "pubBotUid must be a uid"),
        (_without("rtcConfig.pubBotToken"), "pubBotToken is required"),
        (_with("rtcConfig.pubBotToken", token(4000000009)), "signature does not match"),
        (_with("rtcConfig.pubBotToken", token(4000000001, "other")), "signature does not match"),
        (_with("rtcConfig.pubBotToken", token(4000000001, role=Role_Subscriber)), "lacks the data privilege"),
        (_with("rtcConfig.subBotToken", token(4000000002, expires=3600)), "privilege has expired"),
        (_with("rtcConfig.subscribeAudioUids", ["1"] * 33), "subscribeAudioUids"),
    ],
)
def test_join_checks_the_body_and_every_bot_token(agora, body, detail):
    response = join(agora, body)
    assert response.status_code == 400
    assert detail in response.get_json()["detail"]


def test_a_name_is_never_reused(agora):
    assert join(agora).status_code == 200
    again = join(agora, join_body(pub="4000000005", sub="4000000006"))
    assert again.status_code == 409


def test_a_pub_bot_uid_is_unique_in_the_channel(agora):
    assert join(agora).status_code == 200
    assert join(agora, join_body(name="task-2")).status_code == 409
    assert join(agora, join_body(name="task-3", channel="elsewhere")).status_code == 200


def test_an_idle_agent_stops_by_itself(agora, clock):
    agent_id = join(agora).get_json()["agent_id"]
    clock.advance(29)
    assert agora.get(f"{BASE}/agents/{agent_id}", headers=AUTH).get_json()["status"] == "RUNNING"
    clock.advance(2)  # 31 s without anyone in the channel: past maxIdleTime (30 s)
    data = agora.get(f"{BASE}/agents/{agent_id}", headers=AUTH).get_json()
    assert data["status"] == "STOPPED"
    assert data["message"] == "Idle for too long"  # Agora's own words, as its 102 notification says them
    assert agora.post(f"{BASE}/agents/{agent_id}/leave", headers=AUTH).status_code == 404


def test_update_wants_a_rising_sequence_id(agora, clock):
    agent = f"{BASE}/agents/{join(agora).get_json()['agent_id']}"
    clock.advance(5)  # Agora's gap after the join
    ok = agora.post(f"{agent}/update?sequenceId=1&updateMask=languages", json={"languages": ["es-ES"]}, headers=AUTH)
    assert ok.status_code == 200
    clock.advance(5)
    stale = agora.post(f"{agent}/update?sequenceId=1&updateMask=languages", json={"languages": ["es-ES"]}, headers=AUTH)
    assert stale.status_code == 400


def test_list_filters_by_channel(agora):
    join(agora)
    join(agora, join_body(name="task-2", channel="other"))
    data = agora.get(f"{BASE}/agents?channel=other", headers=AUTH).get_json()
    assert data["meta"]["total"] == 1
    assert data["data"]["list"][0]["status"] in ("STARTING", "RUNNING")


def test_a_status_fault_replaces_the_next_matching_call_only(agora):
    queued = agora.post("/_sandbox/faults", json={"op": "join", "status": 503, "headers": {"Retry-After": "3"}})
    assert queued.status_code == 201
    assert agora.get(f"{BASE}/agents/NOPE", headers=AUTH).status_code == 404  # not a join: untouched
    failed = join(agora)
    assert (failed.status_code, failed.headers["Retry-After"]) == (503, "3")
    assert join(agora).status_code == 200


def test_faults_come_before_the_credential_check(agora):
    agora.post("/_sandbox/faults", json={"status": 500})
    assert join(agora, headers={}).status_code == 500


def test_a_fault_can_repeat(agora):
    agora.post("/_sandbox/faults", json={"op": "query", "status": 429, "count": 2})
    codes = [agora.get(f"{BASE}/agents/X", headers=AUTH).status_code for _ in range(3)]
    assert codes == [429, 429, 404]


@pytest.mark.parametrize(
    ("fault", "header", "value"),
    [
        ({"hang": True}, DELAY_HEADER, "3600.0"),
        ({"delay": 0.5}, DELAY_HEADER, "0.5"),
        ({"disconnect": True}, DISCONNECT_HEADER, "1"),
    ],
)
def test_transport_faults_are_asked_of_the_transport(agora, fault, header, value):
    agora.post("/_sandbox/faults", json=fault)
    assert join(agora).headers[header] == value


def test_a_delay_lets_the_call_happen(agora):
    agora.post("/_sandbox/faults", json={"delay": 0.5})
    assert join(agora).get_json()["status"] == "STARTING"


def test_a_malformed_fault_answers_200_with_html(agora):
    agora.post("/_sandbox/faults", json={"malformed": True})
    response = join(agora)
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("<html>")


def test_faults_can_be_cleared(agora):
    agora.post("/_sandbox/faults", json={"status": 500, "count": 5})
    assert agora.delete("/_sandbox/faults").status_code == 204
    assert join(agora).status_code == 200


@pytest.mark.parametrize("fault", [{}, {"op": "nope", "status": 500}, {"status": 99}, {"count": 0, "hang": True}, []])
def test_bad_fault_specs_are_refused(agora, fault):
    assert agora.post("/_sandbox/faults", json=fault).status_code == 400
