"""A clock that tests move by hand, for code that takes `clock` (leases, expiries, idle timeouts)."""

from __future__ import annotations

import time


class FakeClock:
    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
