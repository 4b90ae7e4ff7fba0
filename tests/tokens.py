"""Checks a minted token the way Agora would: decoded, its signature recomputed.

007 tokens go through the tests' own decoder (tests/token007.py), 006 through the sandbox's
006 verifier, which tests/sandbox/test_token006.py checks against agora-token-builder.
"""

from __future__ import annotations

import time

from sandbox import token006
from tests import token007
from tests.conftest import LIVE

PUBLISHER_PRIVILEGES = {token006.JOIN_CHANNEL, token006.PUBLISH_AUDIO, token006.PUBLISH_VIDEO, token006.PUBLISH_DATA}
SUBSCRIBER_PRIVILEGES = {token006.JOIN_CHANNEL}


def assert_token(
    token,
    *,
    channel,
    uid,
    privileges,
    expires_at,
    app_id=LIVE["APP_ID"],
    cert=LIVE["APP_CERTIFICATE"],
    rtm_user_id=None,
):
    """Signature, channel, uid, the exact privilege set, and every privilege's expiry, for 007 or 006."""
    if token.startswith("007"):
        decoded = token007.assert_valid(
            token,
            app_id=app_id,
            cert=cert,
            channel=channel,
            uid=uid,
            privileges=set(privileges),
            expires_at=expires_at,
            rtm_user_id=rtm_user_id,
        )
        assert expires_at > time.time()
        return decoded
    assert token.startswith("006"), token[:10]
    assert rtm_user_id is None, "a 006 token cannot carry RTM"
    decoded = token006.verify(
        token, app_id=app_id, app_certificate=cert, channel=channel, uid=uid, privileges=tuple(privileges)
    )
    assert set(decoded.privileges) == set(privileges)
    assert set(decoded.privileges.values()) == {expires_at}
    assert decoded.ts > time.time()
    return decoded


def expires_at_of(token: str) -> int:
    """When a token (either format) stops working, read from the token itself."""
    if token.startswith("007"):
        decoded = token007.decode(token)
        return decoded.issue_ts + decoded.expire
    return token006.decode(token).privileges[token006.PUBLISH_DATA]
