"""Checks a minted token the way Agora would: decoded, its signature recomputed."""

from __future__ import annotations

import time

from sandbox import token006
from tests.conftest import LIVE

PUBLISHER_PRIVILEGES = {token006.JOIN_CHANNEL, token006.PUBLISH_AUDIO, token006.PUBLISH_VIDEO, token006.PUBLISH_DATA}
SUBSCRIBER_PRIVILEGES = {token006.JOIN_CHANNEL}


def assert_token(token, *, channel, uid, privileges, expires_at, app_id=LIVE["APP_ID"], cert=LIVE["APP_CERTIFICATE"]):
    """Signature, channel, uid, the exact privilege set, and every privilege's expiry."""
    decoded = token006.verify(
        token, app_id=app_id, app_certificate=cert, channel=channel, uid=uid, privileges=tuple(privileges)
    )
    assert set(decoded.privileges) == set(privileges)
    assert set(decoded.privileges.values()) == {expires_at}
    assert decoded.ts > time.time()
    return decoded
