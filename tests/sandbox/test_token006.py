"""The 006 verifier that the emulator (and these tests) rely on must itself catch every fault."""

import base64
import time

import pytest
from agora_token_builder.RtcTokenBuilder import Role_Publisher, Role_Subscriber, RtcTokenBuilder

from sandbox import token006

APP_ID = "0123456789abcdef0123456789abcdef"
CERT = "fedcba9876543210fedcba9876543210"


def build(channel="demo", uid=42, role=Role_Publisher, expires=None):
    return RtcTokenBuilder.buildTokenWithUid(
        APP_ID, CERT, channel, uid, role, expires or int(time.time()) + 86_400
    )  # outlives any run of the suite


def verify(token, **overrides):
    kwargs = {"app_id": APP_ID, "app_certificate": CERT, "channel": "demo", "uid": 42}
    kwargs.update(overrides)
    return token006.verify(token, **kwargs)


def test_decodes_the_layout_the_builder_writes():
    expires = int(time.time()) + 600
    decoded = token006.decode(build(expires=expires))
    assert decoded.app_id == APP_ID
    assert decoded.privileges == {1: expires, 2: expires, 3: expires, 4: expires}
    assert len(decoded.signature) == 32
    assert abs(decoded.ts - (time.time() + 86400)) < 5


def test_subscriber_tokens_carry_only_join():
    assert set(token006.decode(build(role=Role_Subscriber)).privileges) == {1}


def test_accepts_a_good_token_and_returns_what_it_decoded():
    expires = int(time.time()) + 600
    decoded = verify(build(expires=expires), privileges=(1, 4))
    assert (decoded.app_id, decoded.privileges) == (APP_ID, {1: expires, 2: expires, 3: expires, 4: expires})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"channel": "other"}, "signature does not match"),
        ({"uid": 43}, "signature does not match"),
        ({"uid": 0}, "signature does not match"),
        ({"app_certificate": "0" * 32}, "signature does not match"),
        ({"app_id": "f" * 32}, "another App ID"),
    ],
)
def test_rejects_a_token_for_something_else(overrides, message):
    with pytest.raises(token006.TokenError, match=message):
        verify(build(), **overrides)


def test_rejects_a_missing_privilege():
    with pytest.raises(token006.TokenError, match="lacks the data privilege"):
        verify(build(role=Role_Subscriber), privileges=(1, 4))


def test_rejects_an_expired_privilege():
    # The guide's bug: a relative 3600 given to a builder that wants an absolute time.
    with pytest.raises(token006.TokenError, match="join privilege has expired"):
        verify(build(expires=3600))


def test_rejects_tampering():
    token = build()
    raw = bytearray(base64.b64decode(token[35:]))
    raw[-1] ^= 0xFF  # change the last privilege's expiry
    with pytest.raises(token006.TokenError, match="signature does not match"):
        verify(token[:35] + base64.b64encode(bytes(raw)).decode())


@pytest.mark.parametrize("bad", ["", "007abc", "006" + APP_ID, "006" + APP_ID + "!!!", "006" + APP_ID + "AAAA"])
def test_rejects_garbage(bad):
    with pytest.raises(token006.TokenError):
        token006.decode(bad)
