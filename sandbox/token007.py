"""Decode and verify Agora AccessToken2 ("007"), as Agora's servers do (docs/agora.md, "Tokens").

token   = "007" + base64(zlib(content)); integers little-endian, a string is a u16 length + bytes
content = string(signature) + string(app_id) + u32 issue_ts + u32 expire + u32 salt
          + u16 count + count * (u16 type, u16 n, n * (u16 privilege, u32 seconds), the type's fields)
signature = HMAC-SHA256(HMAC(u32 salt, HMAC(u32 issue_ts, certificate)), content after the signature)

Independent of the service's builder (utils/access_token2.py), so that a fault there is caught here.
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

from sandbox.token006 import JOIN_CHANNEL, PRIVILEGE_NAMES, Reader, TokenError

RTC = 1
RTM = 2
MAX_LIFETIME = 86_400
# The fields each known service type carries after its privileges; decoding stops at any
# other type, since services carry no length.
_FIELDS = {RTC: ("channel", "uid"), RTM: ("user_id",)}


@dataclass(frozen=True)
class Token007:
    app_id: str
    signature: bytes
    signed: bytes  # every content byte after the signature
    issue_ts: int
    expire: int  # seconds from issue_ts
    salt: int
    services: dict[int, tuple[dict[int, int], dict[str, str]]]  # type -> (privilege -> seconds, fields)


def decode(token: str) -> Token007:
    """Parse a 007 token without checking its signature."""
    if not isinstance(token, str) or not token.startswith("007") or len(token) <= 3:
        raise TokenError("not an AccessToken2 (007)")
    try:
        content = zlib.decompress(base64.b64decode(token[3:], validate=True))
    except (binascii.Error, ValueError, zlib.error):
        raise TokenError("token content is not base64 of a zlib stream") from None
    reader = Reader(content)
    signature = reader.string()
    start = reader.pos
    try:
        app_id = reader.string().decode("ascii")
    except UnicodeDecodeError:
        raise TokenError("token's App ID is not ASCII") from None
    issue_ts, expire, salt = reader.u32(), reader.u32(), reader.u32()
    services: dict[int, tuple[dict[int, int], dict[str, str]]] = {}
    for _ in range(reader.u16()):
        kind = reader.u16()
        if kind not in _FIELDS:
            break
        privileges = {}
        for _ in range(reader.u16()):
            privilege = reader.u16()
            privileges[privilege] = reader.u32()
        try:
            fields = {name: reader.string().decode() for name in _FIELDS[kind]}
        except UnicodeDecodeError:
            raise TokenError("token field is not UTF-8") from None
        services[kind] = (privileges, fields)
    return Token007(app_id, signature, content[start:], issue_ts, expire, salt, services)


def verify(
    token: str,
    *,
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int | str,
    privileges: tuple[int, ...] = (JOIN_CHANNEL,),
    now: float | None = None,
) -> Token007:
    """Check that `token` lets `uid` into `channel` with `privileges`, signed with `app_certificate`.

    `uid` 0 (the int) is the "any uid" account, signed as the empty string, as builders do.
    """
    decoded = decode(token)
    if decoded.app_id != app_id:
        raise TokenError("token is for another App ID")
    key = hmac.new(struct.pack("<I", decoded.issue_ts), app_certificate.encode(), sha256).digest()
    key = hmac.new(struct.pack("<I", decoded.salt), key, sha256).digest()
    if not hmac.compare_digest(hmac.new(key, decoded.signed, sha256).digest(), decoded.signature):
        raise TokenError("token signature does not match (wrong certificate, or altered)")
    if RTC not in decoded.services:
        raise TokenError("token carries no RTC service")
    granted, fields = decoded.services[RTC]
    if fields["channel"] != channel or fields["uid"] != ("" if uid == 0 else str(uid)):
        raise TokenError("token is for another channel or uid")
    moment = time.time() if now is None else now
    # A lifetime of 0 is read three ways by Agora's own tools: refuse it rather than guess.
    if not 1 <= decoded.expire <= MAX_LIFETIME:
        raise TokenError(f"token lifetime must be 1 to {MAX_LIFETIME} seconds, not {decoded.expire}")
    if decoded.issue_ts + decoded.expire <= moment:
        raise TokenError("token has expired")
    for privilege in privileges:
        seconds = granted.get(privilege)
        name = PRIVILEGE_NAMES.get(privilege, str(privilege))
        if seconds is None:
            raise TokenError(f"token lacks the {name} privilege")
        if seconds == 0:
            raise TokenError(f"token's {name} privilege has no explicit lifetime (0)")
        if decoded.issue_ts + seconds <= moment:
            raise TokenError(f"token's {name} privilege has expired")
    return decoded
