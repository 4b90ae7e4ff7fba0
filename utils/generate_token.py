"""The signing behind the guide's handleGenerateToken, for the token endpoint and the bots alike.

AccessToken2 ("007", utils/access_token2.py) is the default: Signaling and Agora's REST
`agora token=` authentication accept nothing else. The legacy 006 of agora-token-builder stays
for SDKs too old for 007.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from agora_token_builder.RtcTokenBuilder import Role_Publisher, Role_Subscriber, RtcTokenBuilder

from utils import access_token2

VERSIONS = ("007", "006")
ROLES = ("publisher", "subscriber")
_ROLES_006 = {"publisher": Role_Publisher, "subscriber": Role_Subscriber}


@dataclass(frozen=True)
class GeneratedToken:
    token: str
    expires_at: int  # unix seconds
    version: str


def generate_token(
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int,
    role: str,
    expire_time: int,
    *,
    version: str = "007",
    rtm_user_id: str | None = None,
) -> GeneratedToken:
    """A token for `uid` in `channel` with `role`'s privileges, valid for `expire_time` seconds from now.

    uid 0 lets any uid join (it signs the empty account). `rtm_user_id` adds Signaling login
    for that user to the same token, which only 007 can carry.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    now = int(time.time())
    expires_at = now + expire_time
    if version == "007":
        # Token and privileges expire together, both written explicitly (never 0).
        services = [access_token2.rtc_service(channel, uid, role, expire_time)]
        if rtm_user_id is not None:
            services.append(access_token2.rtm_service(rtm_user_id, expire_time))
        token = access_token2.build(app_id, app_certificate, services, expire_time, issue_ts=now)
    elif version == "006":
        if rtm_user_id is not None:
            raise ValueError("a 006 token cannot carry RTM: Signaling needs 007")
        # agora-token-builder wants an ABSOLUTE expiry: bare seconds would mean 1970.
        token = RtcTokenBuilder.buildTokenWithUid(app_id, app_certificate, channel, uid, _ROLES_006[role], expires_at)
    else:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    return GeneratedToken(token=token, expires_at=expires_at, version=version)
