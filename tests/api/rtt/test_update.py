"""POST /api/rtt/update.json: Agora's update, with server-managed sequence ids and the 5 s gap."""

import json

import pytest
from responses import matchers

from api import create_app
from state import Task
from state.sqlite_store import SqliteStore
from tests.clock import FakeClock
from tests.conftest import BASIC, LIVE, RTT_BASE

TASK = "AGENT123"
UPDATE = f"{RTT_BASE}/agents/{TASK}/update"
UPDATED = {"agent_id": TASK, "create_ts": 1732500000, "status": "RUNNING"}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def app(tmp_path, clock):
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "STATE_DB": str(tmp_path / "s.sqlite3"), **LIVE})
    # the shared store, on a clock the tests move: no test waits out Agora's 5 s
    app.extensions["state"] = SqliteStore(str(tmp_path / "s.sqlite3"), clock=clock)
    return app


@pytest.fixture
def store(app):
    return app.extensions["state"]


def update(client, **body):
    return client.post("/api/rtt/update.json", json=body)


def expect_update(agora, sequence_id, mask, body):
    agora.post(
        UPDATE,
        json=UPDATED,
        match=[
            matchers.query_param_matcher({"sequenceId": str(sequence_id), "updateMask": mask}),
            matchers.json_params_matcher(body),
            matchers.header_matcher({"Authorization": BASIC}),
        ],
    )


def test_an_update_reaches_agora_with_a_sequence_id_and_the_mask_of_what_it_sends(client, agora):
    expect_update(agora, 1, "languages", {"languages": ["es-ES", "fr-FR"]})
    response = update(client, taskId=TASK, languages=["es-ES", "fr-FR"])
    assert response.status_code == 200
    assert response.get_json() == {
        "taskId": TASK,
        "status": "RUNNING",
        "createTs": 1732500000,
        "sequenceId": 1,
        "updateMask": ["languages"],
    }


@pytest.mark.parametrize(
    ("fields", "mask", "body"),
    [
        (
            {"uidLanguagesConfig": [{"uid": 1001, "languages": ["ja-JP"]}]},
            "uidLanguagesConfig",
            {"uidLanguagesConfig": [{"uid": "1001", "languages": ["ja-JP"]}]},
        ),
        (
            {"translate": {"languages": [{"source": "en-US", "target": ["fr-FR", "de-DE"]}]}},
            "translateConfig.languages",
            {"translateConfig": {"languages": [{"source": "en-US", "target": ["fr-FR", "de-DE"]}]}},
        ),
        (
            {"subscribeAudioUids": ["all"]},
            "rtcConfig.subscribeAudioUids",
            {"rtcConfig": {"subscribeAudioUids": ["all"]}},
        ),
        (
            {"unSubscribeAudioUids": [7, 8]},
            "rtcConfig.unSubscribeAudioUids",
            {"rtcConfig": {"unSubscribeAudioUids": ["7", "8"]}},
        ),
        (
            {"languages": ["en-US", "es-ES"], "translate": {"languages": [{"source": "es-ES", "target": ["en-US"]}]}},
            "languages,translateConfig.languages",
            {
                "languages": ["en-US", "es-ES"],
                "translateConfig": {"languages": [{"source": "es-ES", "target": ["en-US"]}]},
            },
        ),
    ],
)
def test_each_field_goes_in_agoras_shape_and_in_the_mask(client, agora, fields, mask, body):
    expect_update(agora, 1, mask, body)
    response = update(client, taskId=TASK, keywords=["not updatable"], **fields)
    assert response.status_code == 200
    assert response.get_json()["updateMask"] == mask.split(",")


def test_a_second_update_within_the_gap_is_a_429_with_retry_after(client, agora, clock):
    expect_update(agora, 1, "languages", {"languages": ["es-ES"]})
    assert update(client, taskId=TASK, languages=["es-ES"]).status_code == 200
    clock.advance(2.2)
    response = update(client, taskId=TASK, languages=["fr-FR"])
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "4"  # 5.5 s lease, 3.3 s left, whole seconds rounded up
    assert response.get_json()["error"]["code"] == "update_too_soon"
    assert len(agora.calls) == 1  # nothing went upstream

    clock.advance(3.3)
    expect_update(agora, 2, "languages", {"languages": ["fr-FR"]})
    assert update(client, taskId=TASK, languages=["fr-FR"]).get_json()["sequenceId"] == 2


def test_sequence_ids_are_per_task(client, agora, clock):
    expect_update(agora, 1, "languages", {"languages": ["es-ES"]})
    agora.post(f"{RTT_BASE}/agents/OTHER/update", json=UPDATED, match=[matchers.query_param_matcher(
        {"sequenceId": "1", "updateMask": "languages"})])  # fmt: skip
    assert update(client, taskId=TASK, languages=["es-ES"]).get_json()["sequenceId"] == 1
    assert update(client, taskId="OTHER", languages=["es-ES"]).get_json()["sequenceId"] == 1


def test_a_start_holds_updates_for_the_gap(client, agora, clock):
    agora.post(f"{RTT_BASE}/join", json=UPDATED)
    assert client.post("/api/rtt/start.json", json={"channel": "demo"}).status_code == 200
    response = update(client, taskId=TASK, languages=["es-ES"])
    assert (response.status_code, response.headers["Retry-After"]) == (429, "6")


def test_a_failed_update_still_uses_its_sequence_id(client, agora, clock):
    agora.post(UPDATE, json={"detail": "bad", "reason": "InvalidParameter"}, status=400)
    assert update(client, taskId=TASK, languages=["es-ES"]).status_code == 502
    clock.advance(6)
    expect_update(agora, 2, "languages", {"languages": ["es-ES"]})
    assert update(client, taskId=TASK, languages=["es-ES"]).get_json()["sequenceId"] == 2


def test_an_unknown_task_is_task_not_found(client, agora):
    agora.post(UPDATE, json={"detail": "not found", "reason": "TaskNotFound"}, status=404)
    response = update(client, taskId=TASK, languages=["es-ES"])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "task_not_found"


def test_a_channel_names_the_task_running_in_it(client, agora, store):
    store.record_task(Task(task_id=TASK, channel="demo", status="RUNNING", create_ts=1732500000))
    expect_update(agora, 1, "languages", {"languages": ["de-DE"]})
    assert update(client, channel="demo", languages=["de-DE"]).get_json()["taskId"] == TASK


def test_a_channel_without_a_task_is_a_404_naming_channel(client, agora):
    response = update(client, channel="empty", languages=["de-DE"])
    assert response.status_code == 404
    assert (response.get_json()["error"]["code"], response.get_json()["error"]["field"]) == (
        "task_not_found",
        "channel",
    )


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"languages": ["de-DE"]}, "taskId", "taskId is required"),
        ({"taskId": "no/slash", "languages": ["de-DE"]}, "taskId", "taskId must be"),
        ({"channel": "no/slash", "languages": ["de-DE"]}, "channel", "channel must be"),
        ({"taskId": TASK, "channel": "no/slash", "languages": ["de-DE"]}, "channel", "channel must be"),
        ({"taskId": TASK, "languages": ["en-US", "es-ES", "fr-FR", "de-DE", "it-IT"]}, "languages", "1 to 4"),
        ({"taskId": TASK, "uidLanguagesConfig": [{"uid": n, "languages": ["en-US"]} for n in range(1, 7)]},
         "uidLanguagesConfig", "0 to 5"),
        ({"taskId": TASK, "translate": {"languages": [{"source": "en-US", "target": ["en-US"]}]}},
         "translate.languages[0].target", "its source"),
        ({"taskId": TASK, "subscribeAudioUids": [str(n) for n in range(1, 34)]}, "subscribeAudioUids", "1 to 32"),
        ({"taskId": TASK, "subscribeAudioUids": ["all"], "unSubscribeAudioUids": ["1"]}, "unSubscribeAudioUids",
         "not both"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field_before_anything_is_sent(client, agora, fields, field, words):
    response = update(client, **fields)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and words in error["message"]
    assert len(agora.calls) == 0
    # and the gap was not used up by a refused request
    expect_update(agora, 1, "languages", {"languages": ["it-IT"]})
    assert update(client, taskId=TASK, languages=["it-IT"]).status_code == 200


def test_nothing_to_update_is_a_400(client, agora):
    response = update(client, taskId=TASK, maxIdleTime=30)
    assert response.status_code == 400
    assert "give at least one of languages, uidLanguagesConfig, translate" in response.get_json()["error"]["message"]


def test_update_reads_json_like_every_route(client, agora):
    response = client.post("/api/rtt/update.json", data="taskId=x", content_type="text/plain")
    assert response.status_code == 415
    assert json.loads(response.data)["error"]["code"] == "unsupported_media_type"


def test_an_empty_uid_languages_config_clears_the_per_speaker_languages(client, agora):
    expect_update(agora, 1, "uidLanguagesConfig", {"uidLanguagesConfig": []})
    assert update(client, taskId=TASK, uidLanguagesConfig=[]).status_code == 200
