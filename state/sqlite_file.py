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
WAL_ATTEMPTS = 50
WAL_RETRY_SECONDS = 0.05


class SqliteFile:
    """One connection per thread and process to `path`, in WAL mode, with IMMEDIATE transactions."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        _enable_wal(path)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (a forked worker must not reuse its parent's)."""
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = _connect(self.path)
            connection.execute("PRAGMA synchronous = NORMAL")  # durable enough under WAL, and much faster
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: the write lock is taken first, so a read-then-write inside is atomic."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


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
