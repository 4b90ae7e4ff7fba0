"""The 007 builder against Agora's published vectors (docs/agora.md, "Tokens"), decoded independently."""

import time

import pytest

from tests import token007
from utils import access_token2

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
ISSUE_TS, SALT, EXPIRE = 1111111, 1, 600

V1 = (
    "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAw"
    "BIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj"
)
V2 = (
    "007eJxTYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAw"
    "BIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMADacImo="
)
V3 = (
    "007eJxTYOAQsrQ5s3TfH+1tvy8zZZ46EpCc0V43JXdGd2jS8porKo4KDJbmBs6OxqYpqWYGySYmZiamSUmJqRaJRoamBmaGScbG7l8EGCKYGBgYGRgY"
    "mIAkCxCD+ExgkhlMsoBJBQbzFHMjYzPT1CRLC2MTC1NjS/NU41TjNMsUEzODpJSURC4GIwsLI2MTQyNzY5BZEJM4GUpSi0viS4tTiwAipyp4"
)
V4 = (
    "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAw"
    "BIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM="
)
V1_SIGNATURE = "16a0b84c5a5e82cbf74fb813d09f59c54bdac9c06120580539ac97578e958b1a"


def build(*services):
    return access_token2.build(APP_ID, CERT, services, EXPIRE, issue_ts=ISSUE_TS, salt=SALT)


@pytest.mark.parametrize("uid", [2882341273, "2882341273"])
def test_v1_rtc_uid_is_reproduced_byte_for_byte(uid):
    assert build(access_token2.rtc_service(CHANNEL, uid, "subscriber", EXPIRE)) == V1


def test_v2_uid_zero_signs_the_empty_uid_byte_for_byte():
    assert build(access_token2.rtc_service(CHANNEL, 0, "subscriber", EXPIRE)) == V2


def test_v3_rtc_and_rtm_in_one_token_byte_for_byte():
    token = build(
        access_token2.rtm_service("test_user", EXPIRE),  # given out of order: the builder sorts by type
        access_token2.rtc_service(CHANNEL, "2882341273", "publisher", EXPIRE),
    )
    assert token == V3


def test_v1_decodes_as_documented():
    decoded = token007.decode(V1)
    assert decoded.signature.hex() == V1_SIGNATURE
    assert decoded.signature == token007.expected_signature(CERT, ISSUE_TS, SALT, decoded.signed)
    assert (decoded.app_id, decoded.issue_ts, decoded.expire, decoded.salt) == (APP_ID, ISSUE_TS, EXPIRE, SALT)
    assert decoded.services == {token007.RTC: token007.Service({1: 600}, (CHANNEL, "2882341273"))}


def test_v3_decodes_as_documented():
    decoded = token007.decode(V3)
    assert decoded.signature == token007.expected_signature(CERT, ISSUE_TS, SALT, decoded.signed)
    assert decoded.order == (token007.RTC, token007.RTM)
    assert decoded.services == {
        token007.RTC: token007.Service({1: 600, 2: 600, 3: 600, 4: 600}, (CHANNEL, "2882341273")),
        token007.RTM: token007.Service({1: 600}, ("test_user",)),
    }


def test_v4_from_gos_zlib_differs_in_bytes_but_not_in_fields():
    assert V4 != V1
    go, ours = token007.decode(V4), token007.decode(V1)
    assert go == ours
    assert go.signature.hex() == V1_SIGNATURE


def test_the_signature_covers_every_field():
    decoded = token007.decode(V3)
    for position in range(len(decoded.signed)):
        altered = bytearray(decoded.signed)
        altered[position] ^= 0x01
        assert token007.expected_signature(CERT, ISSUE_TS, SALT, bytes(altered)) != decoded.signature


def test_a_fresh_token_has_a_random_salt_and_is_issued_now():
    before = int(time.time())
    tokens = [
        access_token2.build(APP_ID, CERT, [access_token2.rtc_service("demo", 42, "publisher", 60)], 60)
        for _ in range(20)
    ]
    after = int(time.time())
    decoded = [token007.decode(token) for token in tokens]
    assert all(before <= item.issue_ts <= after for item in decoded)
    assert all(1 <= item.salt <= 99_999_999 for item in decoded)
    assert len({item.salt for item in decoded}) > 1
    for item in decoded:
        assert item.signature == token007.expected_signature(CERT, item.issue_ts, item.salt, item.signed)


@pytest.mark.parametrize("seconds", [0, -1, 86_401])
def test_lifetimes_outside_one_second_to_a_day_are_refused(seconds):
    with pytest.raises(ValueError, match="must be 1 to 86400 seconds"):
        access_token2.rtc_service("demo", 1, "publisher", seconds)
    with pytest.raises(ValueError, match="must be 1 to 86400 seconds"):
        access_token2.rtm_service("alice", seconds)
    with pytest.raises(ValueError, match="must be 1 to 86400 seconds"):
        access_token2.build(APP_ID, CERT, [access_token2.rtc_service("demo", 1, "publisher", 60)], seconds)


def test_a_service_appears_at_most_once():
    rtc = access_token2.rtc_service("demo", 1, "publisher", 60)
    with pytest.raises(ValueError, match="at most once"):
        access_token2.build(APP_ID, CERT, [rtc, rtc], 60)


def test_an_rtm_user_id_is_never_empty():
    with pytest.raises(ValueError, match="must not be empty"):
        access_token2.rtm_service("", 60)
