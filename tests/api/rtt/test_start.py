import json
import re
import time

import pytest
import requests
from responses import matchers

from api import create_app
from sandbox import rtc_token, token006
from tests.conftest import BASIC, LIVE, RTT_BASE
from tests.tokens import PUBLISHER_PRIVILEGES, assert_token, expires_at_of
from utils.generate_resource import BOT_TOKEN_LIFETIME, BOT_UID_MAX, BOT_UID_MIN

JOIN = f"{RTT_BASE}/join"
JOINED = {"agent_id": "AGENT123", "create_ts": 1732500000, "status": "RUNNING"}


def start(client, path="/api/rtt/start.json", **body):
    return client.post(path, json=body)


def sent_body(agora, index=0):
    return json.loads(agora.calls[index].request.body)


def test_start_joins_two_bots_with_their_own_tokens(client, agora):
    agora.post(
        JOIN,
        json=JOINED,
        match=[
            matchers.header_matcher({"Authorization": BASIC, "Content-Type": "application/json"}),
            matchers.request_kwargs_matcher({"timeout": (3.05, 10.0)}),
        ],
    )
    before = int(time.time())
    response = start(client, channel="demo")
    after = int(time.time())

    assert response.status_code == 200
    data = response.get_json()
    body = sent_body(agora)
    rtc = body["rtcConfig"]
    assert data == {
        "taskId": "AGENT123",
        "status": "RUNNING",
        "createTs": 1732500000,
        "channel": "demo",
        "pubBotUid": int(rtc["pubBotUid"]),
        "subBotUid": int(rtc["subBotUid"]),
        "alreadyRunning": False,
    }
    assert set(body) == {"name", "languages", "maxIdleTime", "rtcConfig"}
    assert re.fullmatch(r"rtt-[0-9a-f]{32}", body["name"])
    assert body["languages"] == ["en-US"]
    assert body["maxIdleTime"] == 60
    assert set(rtc) == {"channelName", "subBotUid", "subBotToken", "pubBotUid", "pubBotToken"}
    assert rtc["channelName"] == "demo"
    # uids travel as decimal strings, are distinct, and stay out of the users' way
    assert re.fullmatch(r"[0-9]+", rtc["pubBotUid"]) and re.fullmatch(r"[0-9]+", rtc["subBotUid"])
    assert rtc["pubBotUid"] != rtc["subBotUid"]
    for key in ("pubBotUid", "subBotUid"):
        assert BOT_UID_MIN <= int(rtc[key]) <= BOT_UID_MAX
    # each bot's token is for its own uid, may publish (the pub bot needs the data stream)
    # and lasts as long as a token can
    for uid_key, token_key in (("pubBotUid", "pubBotToken"), ("subBotUid", "subBotToken")):
        assert rtc[token_key].startswith("007")  # the server's default TOKEN_VERSION
        expires_at = expires_at_of(rtc[token_key])
        assert before + BOT_TOKEN_LIFETIME <= expires_at <= after + BOT_TOKEN_LIFETIME
        assert_token(
            rtc[token_key],
            channel="demo",
            uid=int(rtc[uid_key]),
            privileges=PUBLISHER_PRIVILEGES,
            expires_at=expires_at,
        )
    with pytest.raises(token006.TokenError):  # not interchangeable
        rtc_token.verify(
            rtc["pubBotToken"],
            app_id=LIVE["APP_ID"],
            app_certificate=LIVE["APP_CERTIFICATE"],
            channel="demo",
            uid=int(rtc["subBotUid"]),
        )


@pytest.mark.parametrize("version", ["007", "006"])
def test_each_bot_gets_a_token_of_the_servers_version_for_its_own_uid(agora, version):
    client = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, "TOKEN_VERSION": version}).test_client()
    agora.post(JOIN, json=JOINED)
    assert start(client, channel="room 7").status_code == 200
    rtc = sent_body(agora)["rtcConfig"]
    for uid_key, token_key in (("pubBotUid", "pubBotToken"), ("subBotUid", "subBotToken")):
        assert rtc[token_key].startswith(version)
        assert_token(
            rtc[token_key],
            channel="room 7",
            uid=int(rtc[uid_key]),
            privileges=PUBLISHER_PRIVILEGES,
            expires_at=expires_at_of(rtc[token_key]),
        )


def test_nothing_but_the_agora_request_headers_go_upstream(client, agora):
    agora.post(JOIN, json=JOINED)
    start(client, channel="demo")
    sent = agora.calls[0].request.headers
    assert not [name for name in sent if name.lower().startswith("access-control-")]


def test_languages_and_idle_time_are_passed_on(client, agora):
    agora.post(JOIN, json=JOINED)
    assert start(client, channel="demo", languages=["es-ES", "zh-CN-sichuan"], maxIdleTime=5).status_code == 200
    body = sent_body(agora)
    assert (body["languages"], body["maxIdleTime"]) == (["es-ES", "zh-CN-sichuan"], 5)


def test_an_integral_float_is_an_integer(client, agora):
    agora.post(JOIN, json=JOINED)
    assert start(client, channel="demo", maxIdleTime=120.0).status_code == 200
    assert sent_body(agora)["maxIdleTime"] == 120
    assert isinstance(sent_body(agora)["maxIdleTime"], int)


def test_every_start_has_a_new_name_and_new_bots(client, agora):
    agora.post(JOIN, json=JOINED)
    agora.post(JOIN, json=JOINED)
    start(client, channel="demo")
    start(client, channel="other")  # one task per channel: a second start in "demo" would not join
    first, second = sent_body(agora, 0), sent_body(agora, 1)
    assert first["name"] != second["name"]
    assert first["rtcConfig"]["pubBotUid"] != second["rtcConfig"]["pubBotUid"]


def test_the_astro_path_and_its_extra_fields_work(client, agora):
    agora.post(JOIN, json=JOINED)
    response = start(client, "/api/transcription/start.json", channel="demo", builderToken="left-over")
    assert response.get_json()["taskId"] == "AGENT123"


def test_agora_answering_without_a_status_still_reports_one(client, agora):
    agora.post(JOIN, json={"agent_id": "AGENT123"})
    data = start(client, channel="demo").get_json()
    assert data["status"] == "STARTING"
    assert abs(data["createTs"] - time.time()) < 5


MISSING = object()


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("channel", MISSING, "channel is required"),
        ("channel", "a/b", "channel must be 1-64 characters"),
        ("channel", "x" * 65, "channel must be 1-64 characters"),
        ("languages", [], "languages must be a list of 1 to 4"),
        ("languages", ["en-US"] * 2, "languages must be a list of 1 to 4"),
        ("languages", ["en-US", "es-ES", "fr-FR", "de-DE", "it-IT"], "languages must be a list of 1 to 4"),
        ("languages", "en-US", "languages must be a list of 1 to 4"),
        ("languages", [1], "languages must be a list of 1 to 4"),
        ("languages", ["en"], "languages must be a list of 1 to 4"),
        ("languages", ["xx-XX"], "languages must be a list of 1 to 4"),
        ("languages", None, "languages must be a list of 1 to 4"),
        ("maxIdleTime", 4, "maxIdleTime must be an integer from 5 to 2592000"),
        ("maxIdleTime", 2592001, "maxIdleTime must be an integer from 5 to 2592000"),
        ("maxIdleTime", "60", "maxIdleTime must be an integer from 5 to 2592000"),
        ("maxIdleTime", 60.5, "maxIdleTime must be an integer from 5 to 2592000"),
        ("maxIdleTime", True, "maxIdleTime must be an integer from 5 to 2592000"),
    ],
)
def test_each_bad_field_gets_a_400_and_agora_is_not_called(client, agora, field, value, rule):
    body = {"channel": "demo"}
    if value is MISSING:
        del body[field]
    else:
        body[field] = value
    response = client.post("/api/rtt/start.json", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_field", field)
    assert error["message"].startswith(rule)
    assert len(agora.calls) == 0


@pytest.mark.parametrize(
    ("upstream", "status", "code"),
    [
        (
            {"status": 400, "json": {"detail": "body schema check fail", "reason": "InvalidParameter"}},
            502,
            "agora_rejected",
        ),
        ({"status": 401, "json": {"detail": "Invalid authentication credentials"}}, 502, "agora_auth_failed"),
        ({"status": 403, "json": {"detail": "invalid_appid!"}}, 502, "agora_auth_failed"),
        ({"status": 404, "json": {"detail": "no such project"}}, 502, "agora_rejected"),
        ({"status": 409, "json": {"detail": "name exists"}}, 409, "agora_conflict"),
        ({"status": 422, "json": {"detail": "unprocessable"}}, 502, "agora_rejected"),
        ({"status": 500, "json": {"detail": "internal"}}, 502, "agora_unavailable"),
        ({"status": 503, "body": "Service Unavailable"}, 502, "agora_unavailable"),
        ({"status": 504, "body": ""}, 502, "agora_unavailable"),
    ],
)
def test_agora_errors_are_mapped_and_keep_agoras_words(client, agora, upstream, status, code):
    agora.post(JOIN, headers={"X-Request-ID": "agora-req-1"}, **upstream)
    response = start(client, channel="demo")
    assert response.status_code == status
    assert response.content_type == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["agoraStatus"] == upstream["status"]
    assert error["agoraRequestId"] == "agora-req-1"
    if "json" in upstream:
        assert upstream["json"]["detail"] in error["agoraReason"]
    assert len(agora.calls) == 1  # a start is never retried: it could start a second agent


def test_agora_auth_failure_points_at_the_credentials(client, agora):
    agora.post(JOIN, status=401, json={"detail": "Invalid authentication credentials"})
    message = start(client, channel="demo").get_json()["error"]["message"]
    assert "CUSTOMER_ID" in message and "CUSTOMER_SECRET" in message


def test_agora_rate_limit_is_passed_on_with_retry_after(client, agora):
    agora.post(JOIN, status=429, json={"detail": "too many requests"}, headers={"Retry-After": "7"})
    response = start(client, channel="demo")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.get_json()["error"]["code"] == "agora_rate_limited"


def test_agora_rate_limit_without_retry_after_still_says_when(client, agora):
    agora.post(JOIN, status=429, json={"detail": "too many requests"})
    assert start(client, channel="demo").headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (requests.ReadTimeout("read timed out"), 504, "agora_timeout"),
        (requests.ConnectTimeout("connect timed out"), 504, "agora_timeout"),
        (requests.ConnectionError("connection refused"), 502, "agora_unavailable"),
    ],
)
def test_network_failures_are_mapped(client, agora, failure, status, code):
    agora.post(JOIN, body=failure)
    response = start(client, channel="demo")
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


@pytest.mark.parametrize(
    "answer",
    [
        {"body": "<html>gateway</html>", "content_type": "text/html"},
        {"body": "[1, 2]", "content_type": "application/json"},
        {"json": {"status": "RUNNING"}},  # no agent_id
    ],
)
def test_a_success_without_a_usable_body_is_an_upstream_fault(client, agora, answer):
    agora.post(JOIN, status=200, **answer)
    response = start(client, channel="demo")
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "agora_unavailable"
