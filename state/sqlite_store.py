"""The default store: one SQLite file in the instance folder, shared by every worker on a machine."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from state.sqlite_file import SqliteFile
from state.store import ENDED_TASK_SECONDS, Claim, Store, Task

SCHEMA_VERSION = 2  # 2: tasks_channel, for last_ended_task
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    task_id  TEXT PRIMARY KEY,
    channel  TEXT NOT NULL,
    data     TEXT NOT NULL,
    running  INTEGER NOT NULL,
    ended_ts REAL
);
CREATE INDEX IF NOT EXISTS tasks_running ON tasks (running);
CREATE INDEX IF NOT EXISTS tasks_channel ON tasks (channel, ended_ts);
CREATE TABLE IF NOT EXISTS channels (channel TEXT PRIMARY KEY, task_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claims (
    channel    TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sightings (key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sequences (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS speakers (
    channel    TEXT NOT NULL,
    uid        INTEGER NOT NULL,
    name       TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (channel, uid)
);
CREATE TABLE IF NOT EXISTS task_speakers (
    task_id    TEXT NOT NULL,
    uid        INTEGER NOT NULL,
    name       TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (task_id, uid)
);
"""
# A claim nobody finished is remembered this long, so the next start knows to look at Agora.
STALE_CLAIM_SECONDS = 86_400


class SqliteStore(Store):
    """`clock` gives unix seconds; tests pass their own to move time without sleeping."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._file = SqliteFile(path)
        with self._file.transaction() as db:  # workers boot together: one of them creates the schema
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- the task registry ----------------------------------------------------------------

    def claim_channel(self, channel: str, owner: str, lease_seconds: float) -> Claim:
        now = self.clock()
        with self._file.transaction() as db:
            task = self._running_in(db, channel)
            if task is not None:
                return Claim(task=task)
            row = db.execute("SELECT claimed_at, expires_at FROM claims WHERE channel = ?", (channel,)).fetchone()
            if row is not None and row["expires_at"] > now:
                return Claim()
            db.execute(
                "INSERT OR REPLACE INTO claims (channel, owner, claimed_at, expires_at) VALUES (?, ?, ?, ?)",
                (channel, owner, now, now + lease_seconds),
            )
            stale_since = row["claimed_at"] if row is not None else None
            return Claim(won=True, stale_since=stale_since)

    def release_claim(self, channel: str, owner: str, *, outcome_unknown: bool = False) -> None:
        with self._file.transaction() as db:
            if outcome_unknown:
                db.execute(
                    "UPDATE claims SET expires_at = ? WHERE channel = ? AND owner = ?", (self.clock(), channel, owner)
                )
            else:
                db.execute("DELETE FROM claims WHERE channel = ? AND owner = ?", (channel, owner))

    def record_task(self, task: Task, owner: str | None = None) -> Task:
        with self._file.transaction() as db:
            current = self._running_in(db, task.channel)
            if owner is not None:
                db.execute("DELETE FROM claims WHERE channel = ? AND owner = ?", (task.channel, owner))
            if current is not None and current.task_id != task.task_id:
                return current
            if current is None:
                db.execute("DELETE FROM claims WHERE channel = ? AND expires_at <= ?", (task.channel, self.clock()))
            self._put(db, task)
            db.execute("INSERT OR REPLACE INTO channels (channel, task_id) VALUES (?, ?)", (task.channel, task.task_id))
            return task

    def get_task(self, task_id: str) -> Task | None:
        row = self._file.connection().execute("SELECT data FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
        return Task.from_json(row["data"]) if row else None

    def task_for_channel(self, channel: str) -> Task | None:
        return self._running_in(self._file.connection(), channel)

    def last_ended_task(self, channel: str) -> Task | None:
        row = (
            self._file.connection()
            .execute(
                "SELECT data FROM tasks WHERE channel = ? AND running = 0 ORDER BY ended_ts DESC LIMIT 1", (channel,)
            )
            .fetchone()
        )
        return Task.from_json(row["data"]) if row else None

    def end_task(self, task_id: str, *, status: str, reason: str, at: float) -> Task | None:
        with self._file.transaction() as db:
            row = db.execute("SELECT data FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
            if row is None:
                return None
            task = Task.from_json(row["data"])
            if task.ended:
                return task
            ended = task.finished(status=status, reason=reason, at=at)
            self._put(db, ended)
            db.execute("DELETE FROM channels WHERE channel = ? AND task_id = ?", (task.channel, task_id))
            # Forget what ended long ago, a little at a time, on the path that makes more of it.
            db.execute(
                "DELETE FROM tasks WHERE task_id IN"
                " (SELECT task_id FROM tasks WHERE running = 0 AND ended_ts < ? LIMIT 100)",
                (self.clock() - ENDED_TASK_SECONDS,),
            )
            return ended

    def set_status(self, task_id: str, status: str) -> Task | None:
        with self._file.transaction() as db:
            row = db.execute("SELECT data FROM tasks WHERE task_id = ? AND running = 1", (task_id,)).fetchone()
            if row is None:
                return None
            task = Task.from_json(row["data"])
            if task.status != status:
                task = Task(**{**task.__dict__, "status": status})
                self._put(db, task)
            return task

    def running_tasks(self) -> list[Task]:
        rows = self._file.connection().execute("SELECT data FROM tasks WHERE running = 1 ORDER BY rowid")
        return [Task.from_json(row["data"]) for row in rows]

    def stale_claims(self) -> dict[str, float]:
        now = self.clock()
        with self._file.transaction() as db:
            db.execute("DELETE FROM claims WHERE claimed_at < ?", (now - STALE_CLAIM_SECONDS,))
            rows = db.execute("SELECT channel, claimed_at FROM claims WHERE expires_at <= ?", (now,)).fetchall()
        return {row["channel"]: row["claimed_at"] for row in rows}

    def channel_tasks(self, channel: str) -> list[Task]:
        rows = self._file.connection().execute("SELECT data FROM tasks WHERE channel = ? ORDER BY rowid", (channel,))
        return sorted((Task.from_json(row["data"]) for row in rows), key=lambda task: (task.create_ts, task.task_id))

    # -- speaker names ----------------------------------------------------------------------

    def put_speaker(self, channel: str, uid: int, name: str, keep_seconds: float) -> None:
        now = self.clock()
        with self._file.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO speakers (channel, uid, name, expires_at) VALUES (?, ?, ?, ?)",
                (channel, uid, name, now + keep_seconds),
            )
            db.execute(
                "DELETE FROM speakers WHERE rowid IN (SELECT rowid FROM speakers WHERE expires_at <= ? LIMIT 100)",
                (now,),
            )

    def speakers(self, channel: str) -> dict[int, str]:
        rows = self._file.connection().execute(
            "SELECT uid, name FROM speakers WHERE channel = ? AND expires_at > ? ORDER BY uid", (channel, self.clock())
        )
        return {row["uid"]: row["name"] for row in rows}

    def keep_task_speakers(self, task_id: str, names: Mapping[int, str], keep_seconds: float) -> None:
        now = self.clock()
        with self._file.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO task_speakers (task_id, uid, name, expires_at) VALUES (?, ?, ?, ?)",
                [(task_id, uid, name, now + keep_seconds) for uid, name in names.items()],
            )
            db.execute("UPDATE task_speakers SET expires_at = ? WHERE task_id = ?", (now + keep_seconds, task_id))
            db.execute(
                "DELETE FROM task_speakers WHERE rowid IN"
                " (SELECT rowid FROM task_speakers WHERE expires_at <= ? LIMIT 100)",
                (now,),
            )

    def task_speakers(self, task_id: str) -> dict[int, str]:
        rows = self._file.connection().execute(
            "SELECT uid, name FROM task_speakers WHERE task_id = ? AND expires_at > ? ORDER BY uid",
            (task_id, self.clock()),
        )
        return {row["uid"]: row["name"] for row in rows}

    def forget_task_speakers(self, task_id: str) -> int:
        with self._file.transaction() as db:
            kept = db.execute(
                "SELECT COUNT(*) FROM task_speakers WHERE task_id = ? AND expires_at > ?", (task_id, self.clock())
            ).fetchone()[0]
            db.execute("DELETE FROM task_speakers WHERE task_id = ?", (task_id,))
            return kept

    # -- small shared facts -----------------------------------------------------------------

    def first_sighting(self, key: str, keep_seconds: float) -> bool:
        now = self.clock()
        with self._file.transaction() as db:
            row = db.execute("SELECT expires_at FROM sightings WHERE key = ?", (key,)).fetchone()
            if row is not None and row["expires_at"] > now:
                return False
            db.execute("INSERT OR REPLACE INTO sightings (key, expires_at) VALUES (?, ?)", (key, now + keep_seconds))
            db.execute(
                "DELETE FROM sightings WHERE rowid IN (SELECT rowid FROM sightings WHERE expires_at <= ? LIMIT 100)",
                (now,),
            )
            return True

    def next_sequence_id(self, key: str, keep_seconds: float = ENDED_TASK_SECONDS) -> int:
        now = self.clock()
        with self._file.transaction() as db:
            row = db.execute("SELECT value, expires_at FROM sequences WHERE key = ?", (key,)).fetchone()
            value = row["value"] + 1 if row is not None and row["expires_at"] > now else 1
            db.execute(
                "INSERT OR REPLACE INTO sequences (key, value, expires_at) VALUES (?, ?, ?)",
                (key, value, now + keep_seconds),
            )
            return value

    def acquire(self, name: str, seconds: float) -> float:
        now = self.clock()
        with self._file.transaction() as db:
            row = db.execute("SELECT expires_at FROM leases WHERE name = ?", (name,)).fetchone()
            if row is not None and row["expires_at"] > now:
                return row["expires_at"] - now
            db.execute("INSERT OR REPLACE INTO leases (name, expires_at) VALUES (?, ?)", (name, now + seconds))
            return 0.0

    def hold(self, name: str, seconds: float) -> None:
        with self._file.transaction() as db:
            db.execute("INSERT OR REPLACE INTO leases (name, expires_at) VALUES (?, ?)", (name, self.clock() + seconds))

    def close(self) -> None:
        self._file.connection().close()

    # -- rows -------------------------------------------------------------------------------

    @staticmethod
    def _running_in(db, channel: str) -> Task | None:
        row = db.execute(
            "SELECT tasks.data FROM channels JOIN tasks USING (task_id)"
            " WHERE channels.channel = ? AND tasks.running = 1",
            (channel,),
        ).fetchone()
        return Task.from_json(row["data"]) if row else None

    @staticmethod
    def _put(db, task: Task) -> None:
        db.execute(
            "INSERT OR REPLACE INTO tasks (task_id, channel, data, running, ended_ts) VALUES (?, ?, ?, ?, ?)",
            (task.task_id, task.channel, task.to_json(), 0 if task.ended else 1, task.ended_ts),
        )
