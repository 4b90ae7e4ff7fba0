"""Every RTT 7.x start option: at Agora's limit it reaches Agora exactly as sent, one over is a 400
naming the field, and then nothing goes upstream."""

import json

import pytest

from tests.conftest import LIVE, RTT_BASE
from utils.languages import SUPPORTED_LANGUAGES

JOIN = f"{RTT_BASE}/join"
JOINED = {"agent_id": "AGENT123", "create_ts": 1732500000, "status": "RUNNING"}
CODES = sorted(SUPPORTED_LANGUAGES)


def uids(count, first=1001):
    return [str(first + n) for n in range(count)]


def speakers(count, languages=("en-US",)):
    return [{"uid": 1001 + n, "languages": list(languages)} for n in range(count)]


def translate(sources, targets):
    return {"languages": [{"source": CODES[n], "target": CODES[50 : 50 + targets]} for n in range(sources)]}


def sent(agora):
    assert len(agora.calls) == 1
    return json.loads(agora.calls[0].request.body)


# (request fields, the join body's part they must become)
AT_THE_LIMIT = [
    ({"languages": CODES[:4]}, {"languages": CODES[:4]}),
    (
        {"uidLanguagesConfig": speakers(5, CODES[:4])},
        {"uidLanguagesConfig": [{"uid": str(1001 + n), "languages": CODES[:4]} for n in range(5)]},
    ),
    (
        {"uidLanguagesConfig": [{"uid": "4294967295", "languages": ["fr-FR"]}]},
        {"uidLanguagesConfig": [{"uid": "4294967295", "languages": ["fr-FR"]}]},
    ),
    ({"maxIdleTime": 5}, {"maxIdleTime": 5}),
    ({"maxIdleTime": 2_592_000}, {"maxIdleTime": 2_592_000}),
    ({"subscribeAudioUids": [int(u) for u in uids(32)]}, {"rtcConfig": {"subscribeAudioUids": uids(32)}}),
    ({"subscribeAudioUids": ["all"]}, {"rtcConfig": {"subscribeAudioUids": ["all"]}}),
    ({"unSubscribeAudioUids": uids(5)}, {"rtcConfig": {"unSubscribeAudioUids": uids(5)}}),
    ({"keywords": [f"word{n}" for n in range(500)]}, {"keywords": [f"word{n}" for n in range(500)]}),
    ({"translate": translate(4, 10)}, {"translateConfig": translate(4, 10)}),
    ({"enableJsonProtocol": True}, {"rtcConfig": {"enableJsonProtocol": True}}),
    ({"enableJsonProtocol": False}, {"rtcConfig": {"enableJsonProtocol": False}}),
]


@pytest.mark.parametrize(("fields", "expected"), AT_THE_LIMIT)
def test_at_the_limit_the_option_reaches_agora_as_sent(client, agora, fields, expected):
    agora.post(JOIN, json=JOINED)
    response = client.post("/api/rtt/start.json", json={"channel": "demo", **fields})
    assert response.status_code == 200, response.get_json()
    body = sent(agora)
    for key, value in expected.items():
        if key == "rtcConfig":
            # merged into the rtcConfig start builds, beside the bots
            for rtc_key, rtc_value in value.items():
                assert body["rtcConfig"][rtc_key] == rtc_value
            assert {"channelName", "pubBotUid", "pubBotToken"} <= set(body["rtcConfig"])
        else:
            assert body[key] == value


# (request fields, the field the 400 names, words of its message)
ONE_OVER = [
    ({"languages": CODES[:5]}, "languages", "1 to 4"),
    ({"languages": []}, "languages", "1 to 4"),
    ({"uidLanguagesConfig": speakers(6)}, "uidLanguagesConfig", "1 to 5 speakers"),
    ({"uidLanguagesConfig": []}, "uidLanguagesConfig", "1 to 5 speakers"),
    ({"uidLanguagesConfig": speakers(1, CODES[:5])}, "uidLanguagesConfig[0].languages", "1 to 4"),
    ({"uidLanguagesConfig": [{"uid": 1001, "languages": ["xx-XX"]}]}, "uidLanguagesConfig[0].languages", "xx-XX"),
    ({"uidLanguagesConfig": [{"uid": 0, "languages": ["en-US"]}]}, "uidLanguagesConfig[0].uid", "1 to 4294967295"),
    ({"uidLanguagesConfig": [{"uid": 4294967296, "languages": ["en-US"]}]}, "uidLanguagesConfig[0].uid", "uid"),
    ({"uidLanguagesConfig": [{"uid": "01", "languages": ["en-US"]}]}, "uidLanguagesConfig[0].uid", "uid"),
    ({"uidLanguagesConfig": [{"languages": ["en-US"]}]}, "uidLanguagesConfig[0]", "uid"),
    ({"maxIdleTime": 4}, "maxIdleTime", "5 to 2592000"),
    ({"maxIdleTime": 2_592_001}, "maxIdleTime", "5 to 2592000"),
    ({"subscribeAudioUids": uids(33)}, "subscribeAudioUids", "1 to 32"),
    ({"subscribeAudioUids": []}, "subscribeAudioUids", "1 to 32"),
    ({"subscribeAudioUids": ["all", "1001"]}, "subscribeAudioUids[0]", "uid"),
    ({"subscribeAudioUids": [True]}, "subscribeAudioUids[0]", "uid"),
    ({"unSubscribeAudioUids": uids(6)}, "unSubscribeAudioUids", "1 to 5"),
    ({"subscribeAudioUids": ["all"], "unSubscribeAudioUids": ["1"]}, "unSubscribeAudioUids", "not both"),
    ({"keywords": ["k"] * 501}, "keywords", "at most 500"),
    ({"keywords": "one, two"}, "keywords", "at most 500"),
    ({"keywords": ["fine", ""]}, "keywords[1]", "non-empty"),
    ({"translate": translate(5, 1)}, "translate.languages", "1 to 4"),
    ({"translate": translate(1, 11)}, "translate.languages[0].target", "1 to 10"),
    ({"translate": {"languages": []}}, "translate.languages", "1 to 4"),
    ({"translate": ["en-US"]}, "translate.languages", "1 to 4"),
    (
        {"translate": {"languages": [{"source": "en-US", "target": ["en-US", "fr-FR"]}]}},
        "translate.languages[0].target",
        "must not contain its source en-US",
    ),
    (
        {"translate": {"languages": [{"source": "xx-XX", "target": ["fr-FR"]}]}},
        "translate.languages[0].source",
        "language code",
    ),
    (
        {"translate": {"languages": [{"source": "en-US", "target": ["fr-FR", "xx-XX"]}]}},
        "translate.languages[0].target",
        "not supported: xx-XX",
    ),
    (
        {"translate": {"languages": [{"source": "en-US", "target": ["fr-FR", "fr-FR"]}]}},
        "translate.languages[0].target",
        "different",
    ),
    (
        {
            "translate": {
                "languages": [{"source": "en-US", "target": ["fr-FR"]}, {"source": "en-US", "target": ["de-DE"]}]
            }
        },
        "translate.languages[1].source",
        "twice",
    ),
    ({"translate": {"languages": [{"source": "en-US"}]}}, "translate.languages[0]", "target"),
    ({"enableJsonProtocol": "yes"}, "enableJsonProtocol", "true or false"),
    ({"recordCaptions": 1}, "recordCaptions", "true or false"),
    ({"recordCaptions": True}, "recordCaptions", "CAPTION_STORAGE_VENDOR is not set"),
]


@pytest.mark.parametrize(("fields", "field", "words"), ONE_OVER)
def test_one_over_the_limit_is_a_400_and_nothing_goes_upstream(client, agora, fields, field, words):
    response = client.post("/api/rtt/start.json", json={"channel": "demo", **fields})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_field", field)
    assert words in error["message"]
    assert len(agora.calls) == 0


def test_without_options_the_join_body_is_the_guides(client, agora):
    agora.post(JOIN, json=JOINED)
    client.post("/api/rtt/start.json", json={"channel": "demo", "captionConfig": {"storage": {"bucket": "mine"}}})
    body = sent(agora)
    assert set(body) == {"name", "languages", "maxIdleTime", "rtcConfig"}  # a client's captionConfig is ignored
    assert set(body["rtcConfig"]) == {"channelName", "subBotUid", "subBotToken", "pubBotUid", "pubBotToken"}


def test_all_options_at_once_take_agoras_7x_shape(client, agora):
    agora.post(JOIN, json=JOINED)
    response = client.post(
        "/api/rtt/start.json",
        json={
            "channel": "demo",
            "languages": ["en-US", "es-ES"],
            "uidLanguagesConfig": [{"uid": "1001", "languages": ["en-US"]}, {"uid": 1002, "languages": ["es-ES"]}],
            "subscribeAudioUids": [1001, "1002"],
            "keywords": ["Agora", "captions"],
            "translate": {
                "languages": [{"source": "en-US", "target": ["es-ES"]}, {"source": "es-ES", "target": ["en-US"]}]
            },
            "enableJsonProtocol": True,
            "unknownField": "ignored",
        },
    )
    assert response.status_code == 200
    body = sent(agora)
    assert set(body) == {
        "name", "languages", "maxIdleTime", "rtcConfig", "uidLanguagesConfig", "keywords", "translateConfig",
    }  # fmt: skip
    assert body["uidLanguagesConfig"] == [
        {"uid": "1001", "languages": ["en-US"]},
        {"uid": "1002", "languages": ["es-ES"]},
    ]
    assert body["rtcConfig"]["subscribeAudioUids"] == ["1001", "1002"]
    assert body["rtcConfig"]["enableJsonProtocol"] is True
    assert body["keywords"] == ["Agora", "captions"]
    assert body["translateConfig"] == {
        "languages": [{"source": "en-US", "target": ["es-ES"]}, {"source": "es-ES", "target": ["en-US"]}]
    }


# -- caption storage, from the server's settings ---------------------------------------------------

S3 = {
    "CAPTION_STORAGE_VENDOR": "1",
    "CAPTION_STORAGE_REGION": "3",
    "CAPTION_STORAGE_BUCKET": "captions-bucket",
    "CAPTION_STORAGE_ACCESS_KEY": "AKIAEXAMPLEACCESS7",
    "CAPTION_STORAGE_SECRET_KEY": "wJalrXUtnFEMI-K7MDENG-secret",
    "CAPTION_STORAGE_FILE_PREFIX": "calls/2026",
    "CAPTION_STORAGE_SLICE_DURATION": "30",
}
MINIO = {
    "CAPTION_STORAGE_VENDOR": "11",
    "CAPTION_STORAGE_REGION": "eu-central-1",
    "CAPTION_STORAGE_BUCKET": "captions",
    "CAPTION_STORAGE_ACCESS_KEY": "minio-access-9f",
    "CAPTION_STORAGE_SECRET_KEY": "minio-secret-Qx7",
    "CAPTION_STORAGE_ENDPOINT": "https://minio.example.com:9000",
}


@pytest.fixture
def storage_client():
    from api import create_app

    def build(settings):
        return create_app({"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, **settings}).test_client()

    return build


def test_record_captions_sends_the_servers_storage(storage_client, agora):
    agora.post(JOIN, json=JOINED)
    client = storage_client(S3)
    response = client.post("/api/rtt/start.json", json={"channel": "demo", "recordCaptions": True})
    assert response.status_code == 200
    assert sent(agora)["captionConfig"] == {
        "sliceDuration": 30,
        "storage": {
            "vendor": 1,
            "region": 3,
            "bucket": "captions-bucket",
            "accessKey": "AKIAEXAMPLEACCESS7",
            "secretKey": "wJalrXUtnFEMI-K7MDENG-secret",
            "fileNamePrefix": ["calls", "2026"],
        },
    }
    assert "AKIAEXAMPLEACCESS7" not in response.get_data(as_text=True)
    assert "secret" not in response.get_data(as_text=True)


def test_s3_compatible_storage_carries_extension_params_inside_caption_config(storage_client, agora):
    agora.post(JOIN, json=JOINED)
    client = storage_client(MINIO)
    assert client.post("/api/rtt/start.json", json={"channel": "demo", "recordCaptions": True}).status_code == 200
    caption = sent(agora)["captionConfig"]
    assert caption["storage"]["vendor"] == 11 and caption["storage"]["region"] == 0
    assert caption["extensionParams"] == {
        "endpoint": "https://minio.example.com:9000",
        "type": "s3",
        "region": "eu-central-1",
    }
    assert caption["sliceDuration"] == 60 and caption["storage"]["fileNamePrefix"] == []


def test_without_record_captions_storage_stays_off(storage_client, agora):
    agora.post(JOIN, json=JOINED)
    storage_client(S3).post("/api/rtt/start.json", json={"channel": "demo", "recordCaptions": False})
    assert "captionConfig" not in sent(agora)


def test_a_client_cannot_choose_the_bucket(storage_client, agora):
    agora.post(JOIN, json=JOINED)
    storage_client(S3).post(
        "/api/rtt/start.json",
        json={"channel": "demo", "recordCaptions": True, "captionConfig": {"storage": {"bucket": "attacker"}}},
    )
    assert sent(agora)["captionConfig"]["storage"]["bucket"] == "captions-bucket"


@pytest.mark.parametrize(
    "reason",
    [
        "body schema check fail, storage {'accessKey': 'AKIAEXAMPLEACCESS7', "
        "'secretKey': 'wJalrXUtnFEMI-K7MDENG-secret'}",
        # cut short by our 300-character limit in the middle of the secret
        "x" * 280 + " secretKey=wJalrXUtnFEMI",
    ],
)
def test_storage_keys_never_come_back_when_agora_fails_the_start(storage_client, agora, caplog, reason):
    agora.post(JOIN, json={"detail": reason, "reason": "InvalidParameter"}, status=400)
    caplog.set_level("DEBUG")
    response = storage_client(S3).post("/api/rtt/start.json", json={"channel": "demo", "recordCaptions": True})
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert "[redacted]" in response.get_json()["error"]["agoraReason"]
    for secret in ("AKIAEXAMPLEACCESS7", "wJalrXUtnFEMI-K7MDENG-secret", "wJalrXUt"):
        assert secret not in text
        assert secret not in caplog.text
