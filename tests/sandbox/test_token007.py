"""The sandbox's 007 verifier must accept what Agora accepts and catch every fault, in any order.

Tokens here are packed by hand (not by the service's builder), so each field can be made wrong.
"""

import base64
import re
import struct
import time
import zlib

import pytest

from sandbox import rtc_token, token006, token007
from tests.token007 import expected_signature
from tests.utils.test_access_token2 import APP_ID as V_APP_ID
from tests.utils.test_access_token2 import CERT as V_CERT
from tests.utils.test_access_token2 import CHANNEL as V_CHANNEL
from tests.utils.test_access_token2 import V1, V2, V3, V4

APP_ID = "0123456789abcdef0123456789abcdef"
CERT = "fedcba9876543210fedcba9876543210"
# Tokens in parametrize tables are built when the tests are collected: they must outlive the
# slowest whole run of the suite on a busy machine.
LIFETIME = 86_400
PUBLISHER = {1: LIFETIME, 2: LIFETIME, 3: LIFETIME, 4: LIFETIME}


def _string(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<H", len(data)) + data


def pack(
    *,
    rtc=("demo", "42", PUBLISHER),
    rtm=None,
    issue_ts=None,
    expire=LIFETIME,
    salt=7,
    app_id=APP_ID,
    cert=CERT,
    reverse=False,
    extra_service=b"",
):
    """A 007 token from its parts; `reverse` writes services and privileges in descending order."""
    issue_ts = int(time.time()) if issue_ts is None else issue_ts
    services = []
    if rtc is not None:
        channel, uid, privileges = rtc
        services.append((1, privileges, (channel, uid)))
    if rtm is not None:
        services.append((2, {1: expire}, (rtm,)))
    if reverse:
        services.reverse()
    body = b""
    for kind, privileges, fields in services:
        keys = sorted(privileges, reverse=reverse)
        body += struct.pack("<HH", kind, len(keys)) + b"".join(struct.pack("<HI", k, privileges[k]) for k in keys)
        body += b"".join(_string(field) for field in fields)
    count = len(services) + (1 if extra_service else 0)
    signed = _string(app_id) + struct.pack("<IIIH", issue_ts, expire, salt, count) + body + extra_service
    content = _string(expected_signature(cert, issue_ts, salt, signed)) + signed
    return "007" + base64.b64encode(zlib.compress(content)).decode()


def verify(token, **overrides):
    kwargs = {"app_id": APP_ID, "app_certificate": CERT, "channel": "demo", "uid": 42, "privileges": (1, 4)}
    kwargs.update(overrides)
    return token007.verify(token, **kwargs)


def test_accepts_a_good_token_and_reports_its_fields():
    decoded = verify(pack(rtm="alice"))
    assert decoded.app_id == APP_ID
    assert decoded.services == {
        1: (PUBLISHER, {"channel": "demo", "uid": "42"}),
        2: ({1: LIFETIME}, {"user_id": "alice"}),
    }


def test_order_of_services_and_privileges_does_not_matter():
    verify(pack(rtm="alice", reverse=True))


def test_decoding_stops_at_an_unknown_service_type():
    # Services carry no length, so a service of another type ends what can be read; it is signed all the same.
    token = pack(extra_service=struct.pack("<HH", 9, 0) + b"\x00\x01")
    assert set(verify(token).services) == {1}


@pytest.mark.parametrize(("vector", "uid"), [(V1, 2882341273), (V2, 0), (V3, "2882341273"), (V4, 2882341273)])
def test_accepts_agoras_published_vectors_within_their_lifetime(vector, uid):
    kwargs = {"app_id": V_APP_ID, "app_certificate": V_CERT, "channel": V_CHANNEL, "uid": uid}
    token007.verify(vector, **kwargs, privileges=(1,), now=1111111 + 599)
    with pytest.raises(token006.TokenError, match="token has expired"):
        token007.verify(vector, **kwargs, privileges=(1,), now=1111111 + 600)


@pytest.mark.parametrize(
    ("token", "overrides", "message"),
    [
        (pack(), {"channel": "other"}, "another channel or uid"),
        (pack(), {"uid": 43}, "another channel or uid"),
        (pack(), {"uid": 0}, "another channel or uid"),
        (pack(rtc=("demo", "", PUBLISHER)), {"uid": "0"}, "another channel or uid"),
        (pack(rtc=("demo", "0", PUBLISHER)), {"uid": 0}, "another channel or uid"),
        (pack(), {"app_certificate": "0" * 32}, "signature does not match"),
        (pack(cert="0" * 32), {}, "signature does not match"),
        (pack(app_id="f" * 32), {}, "another App ID"),
        (pack(rtc=None, rtm="42"), {}, "carries no RTC service"),
        (pack(rtc=("demo", "42", {1: LIFETIME})), {}, "lacks the data privilege"),
        (pack(issue_ts=int(time.time()) - LIFETIME - 100), {}, "token has expired"),
        (
            pack(rtc=("demo", "42", {1: LIFETIME, 4: 5}), issue_ts=int(time.time()) - 100),
            {},
            "data privilege has expired",
        ),
        (pack(rtc=("demo", "42", {1: 0, 4: LIFETIME})), {}, "join privilege has no explicit lifetime (0)"),
        (pack(expire=0), {}, "token lifetime must be 1 to 86400 seconds, not 0"),
        (pack(expire=86_401), {}, "token lifetime must be 1 to 86400 seconds, not 86401"),
    ],
)
def test_rejects_a_token_for_something_else_or_expired(token, overrides, message):
    with pytest.raises(token006.TokenError, match=re.escape(message)):
        verify(token, **overrides)


def test_uid_zero_accepts_the_empty_uid():
    verify(pack(rtc=("demo", "", PUBLISHER)), uid=0)


def test_rejects_tampering():
    content = bytearray(zlib.decompress(base64.b64decode(pack()[3:])))
    assert content.endswith(b"42")
    content[-1:] = b"3"  # the uid, 42 -> 43
    tampered = "007" + base64.b64encode(zlib.compress(bytes(content))).decode()
    with pytest.raises(token006.TokenError, match="signature does not match"):
        verify(tampered, uid=43)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "007",
        "007!!!",
        "007" + base64.b64encode(b"not zlib").decode(),
        "007" + base64.b64encode(zlib.compress(b"\x20\x00short")).decode(),
        pack()[:-8],
    ],
)
def test_rejects_garbage(bad):
    with pytest.raises(token006.TokenError):
        token007.decode(bad)


@pytest.mark.parametrize("token", [pack(), "006" + APP_ID + "AAAA", "", "abc"])
def test_the_dispatcher_picks_the_verifier_by_prefix(token):
    if token.startswith("007"):
        assert isinstance(
            rtc_token.verify(token, app_id=APP_ID, app_certificate=CERT, channel="demo", uid=42), token007.Token007
        )
    else:
        with pytest.raises(token006.TokenError):
            rtc_token.verify(token, app_id=APP_ID, app_certificate=CERT, channel="demo", uid=42)
