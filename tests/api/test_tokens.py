import time

import pytest

from sandbox import token006
from tests.conftest import LIVE
from tests.tokens import PUBLISHER_PRIVILEGES, SUBSCRIBER_PRIVILEGES, assert_token


def mint(client, path="/api/tokens.json", **body):
    return client.post(path, json=body)


def test_publisher_token_is_signed_for_the_channel_and_uid(client):
    before = int(time.time())
    response = mint(client, channel="demo", uid=42)
    after = int(time.time())

    assert response.status_code == 200
    data = response.get_json()
    assert list(data) == ["token", "channel", "uid", "role", "expiresAt", "appId"]
    assert (data["channel"], data["uid"], data["role"], data["appId"]) == ("demo", 42, "publisher", LIVE["APP_ID"])
    assert before + 3600 <= data["expiresAt"] <= after + 3600
    assert_token(data["token"], channel="demo", uid=42, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])


def test_subscriber_token_may_only_join(client):
    data = mint(client, channel="demo", uid=7, role="subscriber").get_json()
    assert data["role"] == "subscriber"
    assert_token(data["token"], channel="demo", uid=7, privileges=SUBSCRIBER_PRIVILEGES, expires_at=data["expiresAt"])


def test_expire_time_is_seconds_from_now_not_an_absolute_time(client):
    before = int(time.time())
    data = mint(client, channel="demo", uid=1, expireTime=60).get_json()
    assert before + 60 <= data["expiresAt"] <= int(time.time()) + 60
    assert_token(data["token"], channel="demo", uid=1, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])


def test_uid_zero_lets_any_user_join(client):
    data = mint(client, channel="demo", uid=0).get_json()
    decoded = assert_token(
        data["token"], channel="demo", uid=0, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"]
    )
    with pytest.raises(token006.TokenError):  # it is not a token for the literal account "0"
        token006.verify(
            data["token"], app_id=LIVE["APP_ID"], app_certificate=LIVE["APP_CERTIFICATE"], channel="demo", uid="0"
        )
    assert decoded.crc_uid == 0  # crc32 of the empty account


def test_uid_as_a_numeric_string_is_the_same_uid(client):
    data = mint(client, channel="demo", uid="4294967295").get_json()
    assert data["uid"] == 4294967295
    assert_token(
        data["token"], channel="demo", uid=4294967295, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"]
    )


def test_token_for_one_channel_does_not_open_another(client):
    data = mint(client, channel="demo", uid=42).get_json()
    with pytest.raises(token006.TokenError):
        token006.verify(
            data["token"], app_id=LIVE["APP_ID"], app_certificate=LIVE["APP_CERTIFICATE"], channel="other", uid=42
        )
    with pytest.raises(token006.TokenError):
        token006.verify(data["token"], app_id=LIVE["APP_ID"], app_certificate="0" * 32, channel="demo", uid=42)


@pytest.mark.parametrize(
    "channel",
    ["a", "x" * 64, "Room 1", "!#$%&()+-:;<=.>?@[]^_{|}~,", "0123456789"],
)
def test_every_channel_agora_allows_is_accepted(client, channel):
    data = mint(client, channel=channel, uid=5).get_json()
    assert data["channel"] == channel
    assert_token(data["token"], channel=channel, uid=5, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])


@pytest.mark.parametrize("expire_time", [1, 86400])
def test_expire_time_bounds_are_accepted(client, expire_time):
    assert mint(client, channel="demo", uid=1, expireTime=expire_time).status_code == 200


def test_the_astro_path_serves_the_same_endpoint(client):
    data = mint(client, "/api/token.json", channel="demo", uid=9, role="publisher", expireTime=3600).get_json()
    assert_token(data["token"], channel="demo", uid=9, privileges=PUBLISHER_PRIVILEGES, expires_at=data["expiresAt"])


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
