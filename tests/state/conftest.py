"""The same tests against both stores: SQLite (a fake clock) and a real redis-server."""

import os
import time
import uuid

import pytest

from state.sqlite_store import SqliteStore
from tests.clock import FakeClock
from tests.servers import redis_server_binary, start_redis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if redis_server_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing: .ci/run installs it (apt-get install redis-server)")
        pytest.skip("redis-server is missing (apt-get install redis-server); CI installs it")
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


class Backend:
    """A store and a way to let time pass for it: the fake clock for SQLite, real time for Redis."""

    def __init__(self, store, clock, real_time: bool) -> None:
        self.store, self.clock, self.real_time = store, clock, real_time

    def let_pass(self, seconds: float) -> None:
        if self.real_time:
            time.sleep(seconds)  # Redis keeps its own time (PX): only real time moves it
        self.clock.advance(seconds)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path):
    clock = FakeClock()
    if request.param == "sqlite":
        store = SqliteStore(str(tmp_path / "state.sqlite3"), clock=clock)
    else:
        from state.redis_store import RedisStore

        # A prefix per test: the tests share one server and must not see each other's keys.
        store = RedisStore(request.getfixturevalue("redis_url"), prefix=f"t{uuid.uuid4().hex[:8]}:", clock=clock)
    yield Backend(store, clock, real_time=request.param == "redis")
    store.close()


@pytest.fixture
def store(backend):
    return backend.store
