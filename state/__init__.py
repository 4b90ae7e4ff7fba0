"""Server-side state shared by every worker and machine: the task registry and what goes with it.

`open_store` picks the backend from one setting: Redis when REDIS_URL is set (several
machines), else a SQLite file in the instance folder (every worker of one machine).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from state.store import ENDED_STATUSES, Claim, Store, Task

__all__ = ["ENDED_STATUSES", "Claim", "Store", "Task", "open_store"]


def open_store(config: Mapping[str, Any], instance_path: str) -> Store:
    if config.get("REDIS_URL"):
        from state.redis_store import RedisStore  # redis-py is needed only here

        return RedisStore(config["REDIS_URL"])
    from state.sqlite_store import SqliteStore

    return SqliteStore(config.get("STATE_DB") or os.path.join(instance_path, "state.sqlite3"))
