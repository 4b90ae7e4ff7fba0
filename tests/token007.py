"""An AccessToken2 ("007") decoder of the tests' own, written from docs/agora.md, "Tokens".

It imports neither the service's builder (utils/access_token2.py) nor the sandbox's verifier
(sandbox/token007.py): a mistake shared with either would otherwise go unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import zlib
from dataclasses import dataclass

RTC, RTM = 1, 2
FIELD_COUNT = {RTC: 2, RTM: 1}  # RTC: channel, uid; RTM: user id


@dataclass(frozen=True)
class Service:
    privileges: dict[int, int]  # privilege -> seconds after issue_ts
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Decoded:
    signature: bytes
    app_id: str
    issue_ts: int
    expire: int
    salt: int
    services: dict[int, Service]
    signed: bytes  # the bytes the signature covers
    order: tuple[int, ...]  # service types as written


def decode(token: str) -> Decoded:
    assert token[:3] == "007", f"not a 007 token: {token[:10]!r}"
    payload = base64.b64decode(token[3:], validate=True)
    assert payload[:2] == b"\x78\x9c", "not an RFC 1950 zlib stream at the default level"
    content = zlib.decompress(payload)
    offset = 0

    def unpack(fmt: str) -> tuple:
        nonlocal offset
        values = struct.unpack_from("<" + fmt, content, offset)
        offset += struct.calcsize("<" + fmt)
        return values

    def string() -> bytes:
        nonlocal offset
        (length,) = unpack("H")
        assert offset + length <= len(content), "string runs past the end"
        offset += length
        return content[offset - length : offset]

    signature = string()
    signed_from = offset
    app_id = string().decode("ascii")
    issue_ts, expire, salt, count = unpack("IIIH")
    services: dict[int, Service] = {}
    order = []
    for _ in range(count):
        (kind,) = unpack("H")
        assert kind in FIELD_COUNT, f"unexpected service type {kind}"
        (n,) = unpack("H")
        privileges = dict(unpack("HI") for _ in range(n))
        fields = tuple(string().decode() for _ in range(FIELD_COUNT[kind]))
        assert kind not in services, f"service {kind} appears twice"
        services[kind] = Service(privileges, fields)
        order.append(kind)
    assert offset == len(content), f"{len(content) - offset} bytes after the last service"
    return Decoded(signature, app_id, issue_ts, expire, salt, services, content[signed_from:], tuple(order))


def expected_signature(certificate: str, issue_ts: int, salt: int, signed: bytes) -> bytes:
    """The HMAC chain: certificate keyed by issue_ts, then by salt, then over the signed bytes."""
    first = hmac.digest(issue_ts.to_bytes(4, "little"), certificate.encode("ascii"), hashlib.sha256)
    second = hmac.digest(salt.to_bytes(4, "little"), first, hashlib.sha256)
    return hmac.digest(second, signed, hashlib.sha256)


def assert_valid(
    token: str,
    *,
    app_id: str,
    cert: str,
    channel: str,
    uid: int,
    privileges: set[int],
    expires_at: int,
    rtm_user_id: str | None = None,
) -> Decoded:
    """Signature, app id, channel, uid ("" for 0), the exact privileges, every expiry, and the service set."""
    decoded = decode(token)
    assert len(decoded.signature) == 32
    assert decoded.signature == expected_signature(cert, decoded.issue_ts, decoded.salt, decoded.signed)
    assert decoded.app_id == app_id
    assert 1 <= decoded.salt <= 99_999_999
    assert decoded.issue_ts + decoded.expire == expires_at
    assert decoded.expire <= 86_400
    assert list(decoded.order) == sorted(decoded.order)
    expected_services = {RTC} if rtm_user_id is None else {RTC, RTM}
    assert set(decoded.services) == expected_services
    rtc = decoded.services[RTC]
    assert rtc.fields == (channel, "" if uid == 0 else str(uid))
    assert set(rtc.privileges) == set(privileges)
    assert {decoded.issue_ts + seconds for seconds in rtc.privileges.values()} == {expires_at}
    if rtm_user_id is not None:
        rtm = decoded.services[RTM]
        assert rtm.fields == (rtm_user_id,)
        assert rtm.privileges == {1: decoded.expire}  # login, for as long as the token
    return decoded
