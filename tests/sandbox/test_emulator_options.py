"""The emulator checks every 7.x option as Agora documents it, on its own (not with the service's validators)."""

import pytest

from sandbox.emulator import create_emulator
from tests.sandbox.test_emulator import APP_ID, AUTH, BASE, CERT, join, join_body

STORAGE = {
    "sliceDuration": 60,
    "storage": {
        "vendor": 1,
        "region": 0,
        "bucket": "b",
        "accessKey": "AK-secret-1",
        "secretKey": "SK-secret-2",
        "fileNamePrefix": ["calls"],
    },
}


@pytest.fixture
def emulator(store):
    return create_emulator(store, app_id=APP_ID, app_certificate=CERT, customer_id="cid", customer_secret="csecret")


@pytest.fixture
def agora(emulator):
    return emulator.test_client()


def with_rtc(**fields):
    body = join_body()
    body["rtcConfig"].update(fields)
    return body


def describe(agora, agent_id):
    return agora.get(f"/_sandbox/agents/{agent_id}").get_json()


def test_every_option_is_taken_and_kept_without_the_storage_keys(agora):
    body = with_rtc(subscribeAudioUids=["1001", "1002"], enableJsonProtocol=True)
    body.update(
        languages=["en-US", "es-ES"],
        uidLanguagesConfig=[{"uid": "1002", "languages": ["es-ES"]}],
        keywords=["Agora"],
        translateConfig={"languages": [{"source": "en-US", "target": ["fr-FR"]}]},
        captionConfig=STORAGE,
    )
    answer = join(agora, body)
    assert answer.status_code == 200, answer.get_json()
    agent = describe(agora, answer.get_json()["agent_id"])
    assert agent["languages"] == ["en-US", "es-ES"]
    assert agent["options"] == {
        "uidLanguagesConfig": [{"uid": "1002", "languages": ["es-ES"]}],
        "keywords": ["Agora"],
        "subscribeAudioUids": ["1001", "1002"],
        "enableJsonProtocol": True,
        "translateConfig": {"languages": [{"source": "en-US", "target": ["fr-FR"]}]},
        "captionConfig": {"sliceDuration": 60, "vendor": 1, "bucket": "b", "fileNamePrefix": ["calls"]},
    }
    assert "secret" not in str(agent)


def _storage(**changes):
    storage = {**STORAGE["storage"], **changes}
    return {**STORAGE, "storage": storage}


REFUSED = [
    ({"uidLanguagesConfig": [{"uid": str(n), "languages": ["en-US"]} for n in range(1, 7)]}, "at most 5"),
    ({"uidLanguagesConfig": [{"uid": "1", "languages": ["en-US"] * 2}]}, "languages"),
    ({"uidLanguagesConfig": [{"uid": "x", "languages": ["en-US"]}]}, "uid"),
    ({"keywords": ["k"] * 501}, "at most 500"),
    ({"translateConfig": {"languages": [{"source": "en-US", "target": ["fr-FR"]}] * 5}}, "1 to 4"),
    ({"translateConfig": {"languages": [{"source": "en-US", "target": ["en-US"]}]}}, "other than itself"),
    ({"translateConfig": {"languages": [{"source": "en-US", "target": ["xx-XX"]}]}}, "supported"),
    (
        {"translateConfig": {"languages": [{"source": "en-US", "target": sorted(["fr-FR", "de-DE", "it-IT", "es-ES",
          "ja-JP", "ko-KR", "zh-CN", "hi-IN", "ar-EG", "pt-BR", "ru-RU"])}]}},
        "1 to 10",
    ),
    ({"translateConfig": {"languages": [{"source": "en-US", "target": ["fr-FR"]}, {"source": "en-US",
      "target": ["de-DE"]}]}}, "each source once"),
    ({"captionConfig": {**STORAGE, "sliceDuration": 4}}, "sliceDuration"),
    ({"captionConfig": {**STORAGE, "sliceDuration": 28_801}}, "sliceDuration"),
    ({"captionConfig": _storage(vendor=4)}, "vendor"),
    ({"captionConfig": _storage(bucket="")}, "bucket"),
    ({"captionConfig": _storage(fileNamePrefix=["a-b"])}, "fileNamePrefix"),
    ({"captionConfig": _storage(fileNamePrefix=["a" * 129])}, "fileNamePrefix"),
    ({"captionConfig": _storage(vendor=11)}, "extensionParams.endpoint"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "words"), REFUSED)
def test_a_broken_option_is_refused_as_agora_would(agora, fields, words):
    body = join_body()
    body.update(fields)
    answer = join(agora, body)
    assert answer.status_code == 400
    assert words in answer.get_json()["detail"]


@pytest.mark.parametrize(
    ("rtc", "words"),
    [
        ({"subscribeAudioUids": ["1"] * 33}, "1 to 32"),
        ({"subscribeAudioUids": ["all", "1"]}, "1 to 32"),
        ({"unSubscribeAudioUids": ["1"] * 6}, "1 to 5"),
        ({"subscribeAudioUids": ["1"], "unSubscribeAudioUids": ["2"]}, "not both"),
        ({"enableJsonProtocol": "yes"}, "boolean"),
    ],
)
def test_broken_rtc_options_are_refused(agora, rtc, words):
    answer = join(agora, with_rtc(**rtc))
    assert answer.status_code == 400 and words in answer.get_json()["detail"]


def test_s3_compatible_storage_takes_extension_params_inside_or_beside_caption_config(agora):
    inside = {**_storage(vendor=11), "extensionParams": {"endpoint": "https://minio.test", "type": "s3"}}
    assert join(agora, join_body(name="a", captionConfig=inside)).status_code == 200
    beside = join_body(
        name="b", channel="other", captionConfig=_storage(vendor=11), extensionParams={"endpoint": "http://m:9000"}
    )
    assert join(agora, beside).status_code == 200


def update(agora, agent_id, sequence_id, mask, body):
    return agora.post(
        f"{BASE}/agents/{agent_id}/update?sequenceId={sequence_id}&updateMask={mask}", json=body, headers=AUTH
    )


def test_updates_replace_whole_fields_5_s_apart_and_are_recorded(agora, clock):
    agent_id = join(agora, join_body(translateConfig={"languages": [{"source": "en-US", "target": ["fr-FR"]}]}))
    agent_id = agent_id.get_json()["agent_id"]
    clock.advance(4.9)
    early = update(agora, agent_id, 1, "languages", {"languages": ["es-ES"]})
    assert early.status_code == 429 and "5 s" in early.get_json()["detail"]
    clock.advance(0.1)
    new_translation = {"languages": [{"source": "es-ES", "target": ["de-DE", "it-IT"]}]}
    body = {"languages": ["es-ES"], "translateConfig": new_translation}
    assert update(agora, agent_id, 1, "languages,translateConfig.languages", body).status_code == 200
    clock.advance(5)
    assert update(agora, agent_id, 2, "rtcConfig.unSubscribeAudioUids", {"rtcConfig": {"unSubscribeAudioUids": ["7"]}})
    agent = describe(agora, agent_id)
    assert agent["languages"] == ["es-ES"]
    assert agent["options"]["translateConfig"] == new_translation
    assert agent["options"]["unSubscribeAudioUids"] == ["7"]
    assert [u["sequenceId"] for u in agent["updates"]] == [1, 2]
    assert agent["updates"][0]["updateMask"] == ["languages", "translateConfig.languages"]
    assert agent["updates"][1]["receivedTs"] - agent["updates"][0]["receivedTs"] == pytest.approx(5)


@pytest.mark.parametrize(
    ("mask", "body", "words"),
    [
        ("maxIdleTime", {"maxIdleTime": 30}, "cannot be updated"),
        ("languages", {"uidLanguagesConfig": []}, "does not carry"),
        ("translateConfig.languages", {"translateConfig": {"languages": []}}, "1 to 4"),
        ("uidLanguagesConfig", {"uidLanguagesConfig": [{"uid": "1", "languages": []}]}, "languages"),
    ],
)
def test_an_update_is_checked_as_a_join_is(agora, clock, mask, body, words):
    agent_id = join(agora).get_json()["agent_id"]
    clock.advance(5)
    answer = update(agora, agent_id, 1, mask, body)
    assert answer.status_code == 400 and words in answer.get_json()["detail"]
