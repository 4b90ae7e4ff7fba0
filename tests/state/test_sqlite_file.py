"""SQLite's write lock is waited for in Python (cooperatively under gevent), and the wait is bounded."""

import sqlite3
import threading

import pytest

from state import sqlite_file
from state.sqlite_store import SqliteStore


def test_a_writer_waits_for_the_lock_another_process_holds_then_writes(tmp_path):
    path = str(tmp_path / "state.sqlite3")
    store = SqliteStore(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as another worker mid-transaction would
    attempts, outcome = [], {}

    def write():
        # Counted from the waiter's own connection: each BEGIN IMMEDIATE it tries.
        store._file.connection().set_trace_callback(
            lambda sql: attempts.append(sql) if sql == "BEGIN IMMEDIATE" else None
        )
        outcome["left"] = store.acquire("update-gap:T1", 5.0)

    writer = threading.Thread(target=write)
    writer.start()
    while len(attempts) < 3 and writer.is_alive():  # refused at least twice, and still waiting
        threading.Event().wait(0.01)
    still_waiting = writer.is_alive()
    holder.execute("COMMIT")
    writer.join(30)

    assert still_waiting and len(attempts) >= 3
    assert outcome == {"left": 0.0}
    assert store.acquire("update-gap:T1", 5.0) > 4.0  # the lease was written


def test_a_lock_held_past_the_busy_timeout_fails_the_transaction(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_file, "BUSY_TIMEOUT_SECONDS", 0.05)
    path = str(tmp_path / "state.sqlite3")
    store = SqliteStore(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            store.acquire("update-gap:T1", 5.0)
    finally:
        holder.execute("ROLLBACK")
    assert store.acquire("update-gap:T1", 5.0) == 0.0  # the connection is usable afterwards
