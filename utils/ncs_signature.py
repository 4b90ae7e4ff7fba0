"""Agora Notifications (NCS) signatures: HMAC of the raw request body, keyed with the NCS secret.

`Agora-Signature-V2` is hex HMAC-SHA256 and `Agora-Signature` hex HMAC-SHA1 (docs/agora.md,
"Notifications"). Both are computed over the bytes as they arrived: a body parsed and
serialized again (by a proxy, or by us) has other bytes and must not verify.
"""

from __future__ import annotations

import hashlib
import hmac

V2_HEADER = "Agora-Signature-V2"  # HMAC-SHA256
V1_HEADER = "Agora-Signature"  # HMAC-SHA1
_ALGORITHMS = {V2_HEADER: hashlib.sha256, V1_HEADER: hashlib.sha1}


class SignatureError(Exception):
    """The body is not signed with our secret; the message says how (never with the expected value)."""


def sign(body: bytes, secret: str, header: str = V2_HEADER) -> str:
    """The lowercase hex signature Agora sends in `header` for `body`."""
    return hmac.new(secret.encode(), body, _ALGORITHMS[header]).hexdigest()


def verify(body: bytes, secret: str, v2: str | None, v1: str | None) -> str:
    """Check the V2 signature when one is sent, else the V1 one; the header that verified, or SignatureError.

    A V2 that is present but wrong fails even beside a good V1: a forger must not choose the
    weaker algorithm. Hex is compared case-insensitively, in constant time.
    """
    header, presented = (V2_HEADER, v2) if v2 is not None else (V1_HEADER, v1)
    if presented is None or not presented.strip():
        raise SignatureError(f"the request carries no {V2_HEADER} (or {V1_HEADER}) header")
    expected = sign(body, secret, header)
    if not hmac.compare_digest(presented.strip().lower().encode(), expected.encode()):
        raise SignatureError(f"{header} does not match the body signed with NCS_SECRET")
    return header
