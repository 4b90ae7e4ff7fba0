"""Opening one SQLite file from many threads and processes at once, safely.

gunicorn boots its workers together, and each opens the same file. Switching a file to WAL
takes a lock that SQLite's busy handler does not wait for, so "database is locked" can fail a
worker at boot; WAL is a property of the file, so it is set once, with bounded retries, and
every later connection only waits (busy timeout) for the short transactions of the others.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

BUSY_TIMEOUT_SECONDS = 10.0
# Waiting for the write lock: transactions here last well under a millisecond.
LOCK_FIRST_PAUSE_SECONDS = 0.0005
LOCK_MAX_PAUSE_SECONDS = 0.01
WAL_ATTEMPTS = 50
WAL_RETRY_SECONDS = 0.05


class SqliteFile:
    """One connection per OS thread and process to `path`, in WAL mode, with IMMEDIATE transactions.

    Per OS thread, not per greenlet: a gevent worker's greenlets share its one thread and one
    connection. That is safe because sqlite3 does no cooperative I/O, so a transaction never
    yields and two greenlets' statements never interleave; and a worker holding 500 starts
    keeps one connection open, not 500 (three file descriptors each).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._connections: dict[tuple[int, int], sqlite3.Connection] = {}
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        _enable_wal(path)

    def connection(self) -> sqlite3.Connection:
        """This OS thread's connection (a forked worker must not reuse its parent's)."""
        key = (os.getpid(), threading.get_native_id())  # gevent patches get_ident, not the native id
        connection = self._connections.get(key)
        if connection is None:
            connection = _connect(self.path)
            connection.execute("PRAGMA synchronous = NORMAL")  # durable enough under WAL, and much faster
            self._connections[key] = connection
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: the write lock is taken first, so a read-then-write inside is atomic."""
        db = self.connection()
        _begin_immediate(db)
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _begin_immediate(db: sqlite3.Connection) -> None:
    """Wait for the write lock in Python, not in SQLite's busy handler.

    The busy handler sleeps in C: in a gevent worker that freezes every greenlet of the
    worker (tokens included) while another process holds the lock. time.sleep yields to them
    under gevent, and releases the GIL under threads, as the busy handler did. In WAL mode
    BEGIN IMMEDIATE is where a writer waits; other statements keep SQLite's own timeout.
    """
    pause, deadline = LOCK_FIRST_PAUSE_SECONDS, None
    db.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                deadline = deadline or time.monotonic() + BUSY_TIMEOUT_SECONDS
                if time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(2 * pause, LOCK_MAX_PAUSE_SECONDS)
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")


def _connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    return connection


def _enable_wal(path: str) -> None:
    connection = _connect(path)
    try:
        for attempt in range(WAL_ATTEMPTS):
            try:
                if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                    return
                connection.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if attempt == WAL_ATTEMPTS - 1:
                    raise sqlite3.OperationalError(
                        f"{path}: could not switch to WAL mode after {WAL_ATTEMPTS} attempts ({exc})"
                    ) from exc
                time.sleep(WAL_RETRY_SECONDS)
    finally:
        connection.close()
