"""Verify an RTC token of either format, the way Agora tells them apart: by the version prefix."""

from __future__ import annotations

from typing import Any

from sandbox import token006, token007
from sandbox.token006 import TokenError


def verify(token: str, **expected: Any) -> token006.Token006 | token007.Token007:
    """token006.verify or token007.verify by the token's first three characters (same keywords)."""
    if isinstance(token, str) and token.startswith("007"):
        return token007.verify(token, **expected)
    if isinstance(token, str) and token.startswith("006"):
        return token006.verify(token, **expected)
    raise TokenError("not an Agora token (neither 007 nor 006)")
