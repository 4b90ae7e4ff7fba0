"""Fixtures the emulator's tests share: a clock the tests move, and the emulator's store on it."""

import pytest

from sandbox.store import SandboxStore
from tests.clock import FakeClock


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(tmp_path, clock):
    return SandboxStore(str(tmp_path / "emulator.sqlite3"), clock=clock)
