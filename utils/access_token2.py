"""AccessToken2 ("007"), Agora's current token format, built with the standard library only.

Written from the published format (docs/agora.md, "Tokens"), not from Agora's source:

    token   = "007" + base64(zlib(content))
    content = string(signature) + signed
    signed  = string(app_id) + u32 issue_ts + u32 expire + u32 salt + u16 service count + services
    service = u16 type + u16 n + n * (u16 privilege, u32 seconds from issue_ts) + the type's fields
    signature = HMAC(HMAC(u32 salt, HMAC(u32 issue_ts, certificate)), signed)

Integers are little-endian; a string is a u16 length and its bytes. Expiries are relative
seconds, counted from issue_ts (006 used absolute times).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from hashlib import sha256

VERSION = "007"

SERVICE_RTC = 1
SERVICE_RTM = 2

# RTC privileges
JOIN_CHANNEL = 1
PUBLISH_AUDIO = 2
PUBLISH_VIDEO = 3
PUBLISH_DATA_STREAM = 4
# RTM privilege
RTM_LOGIN = 1

ROLE_PRIVILEGES = {
    "publisher": (JOIN_CHANNEL, PUBLISH_AUDIO, PUBLISH_VIDEO, PUBLISH_DATA_STREAM),
    "subscriber": (JOIN_CHANNEL,),
}

MAX_EXPIRE = 86_400  # Agora: a token lasts at most 24 h
SALT_RANGE = (1, 99_999_999)


@dataclass(frozen=True)
class Service:
    """One service of a token: its type, privileges (privilege -> seconds from issue_ts) and fields."""

    type: int
    privileges: Mapping[int, int]
    fields: tuple[str, ...]

    def pack(self) -> bytes:
        packed = struct.pack("<HH", self.type, len(self.privileges))
        for privilege in sorted(self.privileges):  # Agora writes them by key
            packed += struct.pack("<HI", privilege, self.privileges[privilege])
        return packed + b"".join(_string(field.encode()) for field in self.fields)


def rtc_service(channel: str, uid: int | str, role: str, privilege_expire: int) -> Service:
    """RTC for `uid` in `channel`; the int uid 0 ("any uid") is signed as the empty string."""
    account = "" if uid == 0 else str(uid)
    _check_seconds("privilege_expire", privilege_expire)
    return Service(SERVICE_RTC, dict.fromkeys(ROLE_PRIVILEGES[role], privilege_expire), (channel, account))


def rtm_service(user_id: str, privilege_expire: int) -> Service:
    """Signaling (RTM 2.x) login for `user_id`."""
    if not user_id:
        raise ValueError("an RTM user id must not be empty")
    _check_seconds("privilege_expire", privilege_expire)
    return Service(SERVICE_RTM, {RTM_LOGIN: privilege_expire}, (user_id,))


def build(
    app_id: str,
    app_certificate: str,
    services: Iterable[Service],
    expire: int,
    *,
    issue_ts: int | None = None,
    salt: int | None = None,
) -> str:
    """The signed token. `issue_ts` and `salt` are for reproducing published vectors only."""
    _check_seconds("expire", expire)
    issue_ts = int(time.time()) if issue_ts is None else issue_ts
    salt = SALT_RANGE[0] + secrets.randbelow(SALT_RANGE[1]) if salt is None else salt
    ordered = sorted(services, key=lambda service: service.type)  # Agora writes them by type
    if len({service.type for service in ordered}) != len(ordered):
        raise ValueError("a token carries each service at most once")
    signed = (
        _string(app_id.encode())
        + struct.pack("<IIIH", issue_ts, expire, salt, len(ordered))
        + b"".join(service.pack() for service in ordered)
    )
    content = _string(_signature(app_certificate, issue_ts, salt, signed)) + signed
    return VERSION + base64.b64encode(zlib.compress(content)).decode()


def _signature(app_certificate: str, issue_ts: int, salt: int, signed: bytes) -> bytes:
    # The key is derived from the certificate per issue time and salt, so the certificate
    # itself never signs a token directly.
    key = hmac.new(struct.pack("<I", issue_ts), app_certificate.encode(), sha256).digest()
    key = hmac.new(struct.pack("<I", salt), key, sha256).digest()
    return hmac.new(key, signed, sha256).digest()


def _string(data: bytes) -> bytes:
    return struct.pack("<H", len(data)) + data


def _check_seconds(name: str, seconds: int) -> None:
    # 0 is read three ways by Agora's own tools (never, now, the token's expiry): never write it.
    if not 1 <= seconds <= MAX_EXPIRE:
        raise ValueError(f"{name} must be 1 to {MAX_EXPIRE} seconds, got {seconds}")
