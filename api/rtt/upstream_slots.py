"""How many calls a worker has waiting on Agora at once: as many as it has pooled connections.

A greenlet waiting on Agora costs next to nothing, so a hung Agora could gather thousands of
them, each opening a connection. Instead every call takes a slot (one of AGORA_POOL_SIZE)
for as long as it talks to Agora; when none frees within AGORA_CONNECT_TIMEOUT (what opening
a new connection may take anyway), the call is shed: 503 `agora_busy` with Retry-After,
rather than queueing behind calls that may each wait out the whole read timeout.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from api.errors import ApiError


class UpstreamSlots:
    """A bounded semaphore with a bounded wait. Built by create_app, after gevent has patched threading."""

    def __init__(self, size: int, wait_seconds: float) -> None:
        self.size = size
        self.wait_seconds = wait_seconds
        self._free = threading.BoundedSemaphore(size)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold a slot for the block; ApiError 503 agora_busy if none frees in time."""
        if not self._free.acquire(timeout=self.wait_seconds):
            raise ApiError(
                503,
                "agora_busy",
                f"All {self.size} of this server's connections to Agora are waiting on it; retry after Retry-After.",
                headers={"Retry-After": str(max(1, math.ceil(self.wait_seconds)))},
            )
        try:
            yield
        finally:
            self._free.release()
