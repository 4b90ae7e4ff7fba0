"""Decode and verify Agora AccessToken 006, as Agora's servers do (docs/agora.md, "Tokens").

Token = "006" + appId (32) + base64(content); integers are little-endian, str16 is a u16
length then bytes.
content = str16(signature) + u32 crc32(channel) + u32 crc32(uid) + str16(m)
m       = u32 salt + u32 ts + u16 n + n * (u16 privilege, u32 expireTs)
signature = HMAC-SHA256(certificate, appId + channel + uid + m)
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
import time
import zlib
from dataclasses import dataclass
from hashlib import sha256

JOIN_CHANNEL = 1
PUBLISH_AUDIO = 2
PUBLISH_VIDEO = 3
PUBLISH_DATA = 4
PRIVILEGE_NAMES = {JOIN_CHANNEL: "join", PUBLISH_AUDIO: "audio", PUBLISH_VIDEO: "video", PUBLISH_DATA: "data"}


class TokenError(ValueError):
    """The token is malformed, forged, for someone else, or expired."""


@dataclass(frozen=True)
class Token006:
    app_id: str
    signature: bytes
    crc_channel: int
    crc_uid: int
    message: bytes  # the signed part, m
    salt: int
    ts: int
    privileges: dict[int, int]  # privilege -> absolute expiry, unix seconds (0: never)


class Reader:
    """Little-endian fields of a token's content, read in order (006 and 007 share the layout)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise TokenError("token content is truncated")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def string(self) -> bytes:
        """A u16 length, then that many bytes."""
        return self.take(self.u16())

    def done(self) -> None:
        if self.pos != len(self.data):
            raise TokenError("token content has trailing bytes")


def decode(token: str) -> Token006:
    """Parse a 006 token without checking its signature."""
    if not isinstance(token, str) or not token.startswith("006") or len(token) <= 35:
        raise TokenError("not an AccessToken 006")
    app_id = token[3:35]
    try:
        content = base64.b64decode(token[35:], validate=True)
    except (binascii.Error, ValueError):
        raise TokenError("token content is not base64") from None
    outer = Reader(content)
    signature = outer.string()
    crc_channel = outer.u32()
    crc_uid = outer.u32()
    message = outer.string()
    outer.done()

    inner = Reader(message)
    salt = inner.u32()
    ts = inner.u32()
    privileges = {}
    for _ in range(inner.u16()):
        privilege = inner.u16()
        privileges[privilege] = inner.u32()
    inner.done()
    return Token006(app_id, signature, crc_channel, crc_uid, message, salt, ts, privileges)


def verify(
    token: str,
    *,
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int | str,
    privileges: tuple[int, ...] = (JOIN_CHANNEL,),
    now: float | None = None,
) -> Token006:
    """Check that `token` lets `uid` into `channel` with `privileges`, signed with `app_certificate`.

    `uid` 0 (the int) is the "any uid" account, signed as the empty string, as the builder does.
    """
    decoded = decode(token)
    account = "" if uid == 0 else str(uid)
    if decoded.app_id != app_id:
        raise TokenError("token is for another App ID")
    expected = hmac.new(
        app_certificate.encode(), app_id.encode() + channel.encode() + account.encode() + decoded.message, sha256
    ).digest()
    if not hmac.compare_digest(expected, decoded.signature):
        raise TokenError("token signature does not match (wrong certificate, channel or uid)")
    if decoded.crc_channel != zlib.crc32(channel.encode()) or decoded.crc_uid != zlib.crc32(account.encode()):
        raise TokenError("token is for another channel or uid")
    moment = time.time() if now is None else now
    if decoded.ts <= moment:
        raise TokenError("token has expired")
    for privilege in privileges:
        expiry = decoded.privileges.get(privilege)
        name = PRIVILEGE_NAMES.get(privilege, str(privilege))
        if expiry is None:
            raise TokenError(f"token lacks the {name} privilege")
        if expiry != 0 and expiry <= moment:  # 0: the privilege never expires
            raise TokenError(f"token's {name} privilege has expired")
    return decoded
