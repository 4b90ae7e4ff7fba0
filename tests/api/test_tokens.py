import time

import pytest

from api import create_app
from sandbox import rtc_token, token006
from tests import token007
from tests.conftest import LIVE
from tests.tokens import PUBLISHER_PRIVILEGES, SUBSCRIBER_PRIVILEGES, assert_token

MAX_UID = 4294967295


def mint(client, path="/api/tokens.json", **body):
    return client.post(path, json=body)


@pytest.fixture(params=["007", "006"])
def version(request):
    return request.param


def test_the_default_is_an_accesstoken2_for_rtc(client):
    before = int(time.time())
    response = mint(client, channel="demo", uid=42)
    after = int(time.time())

    assert response.status_code == 200
    data = response.get_json()
    assert list(data) == ["token", "channel", "uid", "role", "expiresAt", "appId", "version", "services"]
    assert (data["channel"], data["uid"], data["role"], data["appId"]) == ("demo", 42, "publisher", LIVE["APP_ID"])
    assert (data["version"], data["services"]) == ("007", ["rtc"])
    assert data["token"].startswith("007eJx")
    assert before + 3600 <= data["expiresAt"] <= after + 3600
    decoded = assert_token(
        data["token"], channel="demo", uid=42, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"]
    )
    assert before <= decoded.issue_ts <= after
    assert decoded.expire == 3600
    assert decoded.services[token007.RTC].privileges == {1: 3600, 2: 3600, 3: 3600, 4: 3600}


def test_the_legacy_006_token_keeps_its_answer_and_adds_the_version(client):
    before = int(time.time())
    data = mint(client, channel="demo", uid=42, version="006").get_json()
    assert list(data) == ["token", "channel", "uid", "role", "expiresAt", "appId", "version"]
    assert data["version"] == "006"
    assert data["token"].startswith("006" + LIVE["APP_ID"])
    assert before + 3600 <= data["expiresAt"] <= int(time.time()) + 3600
    assert_token(data["token"], channel="demo", uid=42, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])


def test_publisher_token_is_signed_for_the_channel_and_uid(client, version):
    data = mint(client, channel="demo", uid=42, version=version).get_json()
    assert data["version"] == version and data["token"].startswith(version)
    assert_token(data["token"], channel="demo", uid=42, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])


def test_subscriber_token_may_only_join(client, version):
    data = mint(client, channel="demo", uid=7, role="subscriber", version=version).get_json()
    assert data["role"] == "subscriber"
    assert_token(data["token"], channel="demo", uid=7, privileges=SUBSCRIBER_PRIVILEGES, expires_at=data["expiresAt"])


def test_expire_time_is_seconds_from_now_not_an_absolute_time(client, version):
    before = int(time.time())
    data = mint(client, channel="demo", uid=1, expireTime=60, version=version).get_json()
    assert before + 60 <= data["expiresAt"] <= int(time.time()) + 60
    assert_token(data["token"], channel="demo", uid=1, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])


def test_uid_zero_lets_any_user_join(client, version):
    data = mint(client, channel="demo", uid=0, version=version).get_json()
    decoded = assert_token(
        data["token"], channel="demo", uid=0, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"]
    )
    with pytest.raises(token006.TokenError):  # it is not a token for the literal account "0"
        rtc_token.verify(
            data["token"], app_id=LIVE["APP_ID"], app_certificate=LIVE["APP_CERTIFICATE"], channel="demo", uid="0"
        )
    if version == "007":
        assert decoded.services[token007.RTC].fields == ("demo", "")
    else:
        assert decoded.crc_uid == 0  # crc32 of the empty account


def test_uid_as_a_numeric_string_is_the_same_uid(client, version):
    data = mint(client, channel="demo", uid="4294967295", version=version).get_json()
    assert data["uid"] == 4294967295
    assert_token(
        data["token"], channel="demo", uid=4294967295, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"]
    )


def test_token_for_one_channel_does_not_open_another(client, version):
    data = mint(client, channel="demo", uid=42, version=version).get_json()
    right = {"app_id": LIVE["APP_ID"], "app_certificate": LIVE["APP_CERTIFICATE"], "channel": "demo", "uid": 42}
    rtc_token.verify(data["token"], **right)
    for wrong in ({"channel": "other"}, {"uid": 43}, {"app_certificate": "0" * 32}):
        with pytest.raises(token006.TokenError):
            rtc_token.verify(data["token"], **{**right, **wrong})


@pytest.mark.parametrize(
    "channel",
    ["a", "x" * 64, "Room 1", "!#$%&()+-:;<=.>?@[]^_{|}~,", "0123456789"],
)
def test_every_channel_agora_allows_is_accepted(client, channel, version):
    data = mint(client, channel=channel, uid=5, version=version).get_json()
    assert data["channel"] == channel
    assert_token(data["token"], channel=channel, uid=5, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])


@pytest.mark.parametrize("expire_time", [1, 86400])
def test_expire_time_bounds_are_accepted(client, expire_time, version):
    data = mint(client, channel="demo", uid=1, expireTime=expire_time, version=version).get_json()
    assert_token(data["token"], channel="demo", uid=1, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])
    if version == "007":
        assert token007.decode(data["token"]).expire == expire_time


def test_the_astro_path_serves_the_same_endpoint(client):
    data = mint(client, "/api/token.json", channel="demo", uid=9, role="publisher", expireTime=3600).get_json()
    assert_token(data["token"], channel="demo", uid=9, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])


@pytest.mark.parametrize("role", ["publisher", "subscriber"])
@pytest.mark.parametrize("uid", [0, 1, MAX_UID])
@pytest.mark.parametrize("services", [None, ["rtc"], ["rtc", "rtm"], ["rtm", "rtc"]])
def test_every_role_uid_and_service_combination_decodes_as_asked(client, role, uid, services):
    body = {"channel": "demo", "uid": uid, "role": role}
    if services is not None:
        body["services"] = services
    data = client.post("/api/tokens.json", json=body).get_json()
    with_rtm = services is not None and "rtm" in services
    assert data["services"] == (["rtc", "rtm"] if with_rtm else ["rtc"])
    assert data.get("rtmUserId") == (str(uid) if with_rtm else None)
    privileges = PUBLISHER_PRIVILEGES if role == "publisher" else SUBSCRIBER_PRIVILEGES
    decoded = assert_token(
        data["token"],
        channel="demo",
        uid=uid,
        privileges=privileges,
        expires_at=data["expiresAt"],
        rtm_user_id=str(uid) if with_rtm else None,
    )
    assert decoded.order == ((1, 2) if with_rtm else (1,))


@pytest.mark.parametrize("rtm_user_id", ["alice", "a", "x" * 64, "Ana B", "!#$%&()+-:;<=.>?@[]^_{|}~,"])
def test_an_rtm_user_id_may_be_given(client, rtm_user_id):
    body = {"channel": "demo", "uid": 42, "services": ["rtc", "rtm"], "rtmUserId": rtm_user_id}
    data = client.post("/api/tokens.json", json=body).get_json()
    assert data["rtmUserId"] == rtm_user_id
    decoded = assert_token(
        data["token"],
        channel="demo",
        uid=42,
        privileges=PUBLISHER_PRIVILEGES,
        expires_at=data["expiresAt"],
        rtm_user_id=rtm_user_id,
    )
    assert decoded.services[token007.RTM].privileges == {1: 3600}


@pytest.fixture
def legacy_client():
    return create_app({"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, "TOKEN_VERSION": "006"}).test_client()


def test_token_version_sets_the_servers_default(legacy_client):
    data = mint(legacy_client, channel="demo", uid=3).get_json()
    assert data["version"] == "006" and "services" not in data
    assert_token(data["token"], channel="demo", uid=3, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])
    asked = mint(legacy_client, channel="demo", uid=3, version="007", services=["rtc", "rtm"]).get_json()
    assert (asked["version"], asked["services"]) == ("007", ["rtc", "rtm"])
    assert_token(
        asked["token"],
        channel="demo",
        uid=3,
        privileges=PUBLISHER_PRIVILEGES,
        expires_at=asked["expiresAt"],
        rtm_user_id="3",
    )


def test_rtm_on_a_legacy_server_asks_for_007_by_name(legacy_client):
    response = mint(legacy_client, channel="demo", uid=3, services=["rtc", "rtm"])
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "services"
    assert error["message"] == (
        'services may include "rtm" only in a "007" token (Signaling needs AccessToken2); '
        'this token would be 006: send "version": "007"'
    )


MISSING = object()


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("channel", MISSING, "channel is required"),
        ("channel", "", "channel must be 1-64 characters"),
        ("channel", "x" * 65, "channel must be 1-64 characters"),
        ("channel", "a/b", "channel must be 1-64 characters"),
        ("channel", 'say "hi"', "channel must be 1-64 characters"),
        ("channel", "star*", "channel must be 1-64 characters"),
        ("channel", "café", "channel must be 1-64 characters"),
        ("channel", "tab\there", "channel must be 1-64 characters"),
        ("channel", "line\n", "channel must be 1-64 characters"),
        ("channel", 123, "channel must be 1-64 characters"),
        ("channel", None, "channel must be 1-64 characters"),
        ("uid", MISSING, "uid is required"),
        ("uid", -1, "uid must be an integer from 0 to 4294967295"),
        ("uid", 4294967296, "uid must be an integer from 0 to 4294967295"),
        ("uid", "4294967296", "uid must be an integer from 0 to 4294967295"),
        ("uid", "abc", "uid must be an integer from 0 to 4294967295"),
        ("uid", "007", "uid must be an integer from 0 to 4294967295"),
        ("uid", "", "uid must be an integer from 0 to 4294967295"),
        ("uid", " 5", "uid must be an integer from 0 to 4294967295"),
        ("uid", 1.5, "uid must be an integer from 0 to 4294967295"),
        ("uid", 4294967296.0, "uid must be an integer from 0 to 4294967295"),
        ("uid", 1e300, "uid must be an integer from 0 to 4294967295"),
        ("uid", True, "uid must be an integer from 0 to 4294967295"),
        ("uid", None, "uid must be an integer from 0 to 4294967295"),
        ("uid", [1], "uid must be an integer from 0 to 4294967295"),
        ("role", "admin", 'role must be "publisher" or "subscriber"'),
        ("role", "Publisher", 'role must be "publisher" or "subscriber"'),
        ("role", 1, 'role must be "publisher" or "subscriber"'),
        ("role", None, 'role must be "publisher" or "subscriber"'),
        ("expireTime", 0, "expireTime must be an integer from 1 to 86400"),
        ("expireTime", 86401, "expireTime must be an integer from 1 to 86400"),
        ("expireTime", -5, "expireTime must be an integer from 1 to 86400"),
        ("expireTime", "3600", "expireTime must be an integer from 1 to 86400"),
        ("expireTime", 3600.5, "expireTime must be an integer from 1 to 86400"),
        ("expireTime", False, "expireTime must be an integer from 1 to 86400"),
        ("expireTime", None, "expireTime must be an integer from 1 to 86400"),
        ("version", "008", 'version must be "007" (AccessToken2) or "006" (legacy, for old SDKs)'),
        ("version", 7, 'version must be "007" (AccessToken2) or "006" (legacy, for old SDKs)'),
        ("version", "7", 'version must be "007" (AccessToken2) or "006" (legacy, for old SDKs)'),
        ("version", None, 'version must be "007" (AccessToken2) or "006" (legacy, for old SDKs)'),
        ("services", "rtc", 'services must be ["rtc"] or ["rtc", "rtm"] (each at most once)'),
        ("services", [], 'services must be ["rtc"] or ["rtc", "rtm"] (each at most once): the token is always'),
        ("services", ["rtm"], 'services must be ["rtc"] or ["rtc", "rtm"] (each at most once): the token is always'),
        ("services", ["rtc", "rtc"], 'services must be ["rtc"] or ["rtc", "rtm"] (each at most once)'),
        ("services", ["rtc", "chat"], 'services must be ["rtc"] or ["rtc", "rtm"] (each at most once); unknown: chat'),
        ("services", ["RTC"], 'services must be ["rtc"] or ["rtc", "rtm"] (each at most once); unknown: RTC'),
        ("services", ["rtc", 2], 'services must be ["rtc"] or ["rtc", "rtm"] (each at most once)'),
        ("services", None, 'services must be ["rtc"] or ["rtc", "rtm"] (each at most once)'),
        ("rtmUserId", "alice", 'rtmUserId needs "rtm" in services'),
    ],
)
def test_each_bad_field_gets_a_400_naming_it_and_its_rule(client, field, value, rule):
    body = {"channel": "demo", "uid": 42}
    if value is MISSING:
        del body[field]
    else:
        body[field] = value
    response = client.post("/api/tokens.json", json=body)
    assert response.status_code == 400
    assert response.content_type == "application/json"
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_field", field)
    assert error["message"].startswith(rule)


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"version": "006", "services": ["rtc", "rtm"]}, "services", 'services may include "rtm" only in a "007"'),
        ({"version": "006", "services": ["rtc"], "rtmUserId": "a"}, "rtmUserId", 'rtmUserId needs "rtm" in services'),
        ({"services": ["rtc", "rtm"], "rtmUserId": ""}, "rtmUserId", "rtmUserId must be 1-64 characters from a-z"),
        ({"services": ["rtc", "rtm"], "rtmUserId": "x" * 65}, "rtmUserId", "rtmUserId must be 1-64 characters"),
        ({"services": ["rtc", "rtm"], "rtmUserId": "a/b"}, "rtmUserId", "rtmUserId must be 1-64 characters"),
        ({"services": ["rtc", "rtm"], "rtmUserId": "José"}, "rtmUserId", "rtmUserId must be 1-64 characters"),
        ({"services": ["rtc", "rtm"], "rtmUserId": 42}, "rtmUserId", "rtmUserId must be 1-64 characters"),
    ],
)
def test_each_bad_combination_gets_a_400_naming_the_field(client, body, field, rule):
    response = client.post("/api/tokens.json", json={"channel": "demo", "uid": 42, **body})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_field", field)
    assert error["message"].startswith(rule)


def test_a_number_written_with_a_decimal_point_is_the_same_integer(client):
    # JSON does not tell 42 from 42.0, and neither does the OpenAPI document's "integer".
    data = mint(client, channel="demo", uid=42.0, expireTime=60.0).get_json()
    assert (data["uid"], type(data["uid"])) == (42, int)
    assert_token(data["token"], channel="demo", uid=42, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])


def test_unknown_fields_are_ignored(client):
    assert mint(client, channel="demo", uid=1, colour="blue").status_code == 200


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "invalid_json"),
        ("", "application/json", 400, "invalid_json"),
        ("[1, 2]", "application/json", 400, "invalid_json"),
        ('"demo"', "application/json", 400, "invalid_json"),
        ("null", "application/json", 400, "invalid_json"),
        ('{"channel": "demo", "uid": 1}', "text/plain", 415, "unsupported_media_type"),
        ("channel=demo&uid=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(client, data, content_type, status, code):
    response = client.post("/api/tokens.json", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
