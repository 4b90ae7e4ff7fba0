"""The emulator's state in SQLite, so that every gunicorn worker sees the same agents and faults."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from state.sqlite_file import SqliteFile

SCHEMA_VERSION = 3  # 3: failures and the notifications outbox
_SCHEMA = """
CREATE TABLE IF NOT EXISTS agents (
    agent_id      TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL,
    name          TEXT NOT NULL,
    channel       TEXT NOT NULL,
    languages     TEXT NOT NULL,
    pub_bot_uid   TEXT NOT NULL,
    sub_bot_uid   TEXT,
    max_idle_time INTEGER NOT NULL,
    create_ts     REAL NOT NULL,
    last_activity REAL NOT NULL,
    stopped_ts    REAL,
    stop_reason   TEXT,
    sequence_id   INTEGER NOT NULL DEFAULT 0,
    options       TEXT NOT NULL DEFAULT '{}',
    changed_ts    REAL NOT NULL DEFAULT 0,
    fail_at       REAL,
    fail_message  TEXT,
    end_noticed   INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS agents_name ON agents (app_id, name);
CREATE INDEX IF NOT EXISTS agents_channel ON agents (app_id, channel);
CREATE TABLE IF NOT EXISTS updates (
    agent_id    TEXT NOT NULL,
    sequence_id INTEGER NOT NULL,
    mask        TEXT NOT NULL,
    received_ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_agent ON updates (agent_id, received_ts);
CREATE TABLE IF NOT EXISTS notices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id    TEXT NOT NULL,
    notice_id   TEXT NOT NULL,
    event_type  INTEGER NOT NULL,
    payload     TEXT NOT NULL,
    due_at      REAL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    taken_until REAL NOT NULL DEFAULT 0,
    done        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS notices_due ON notices (done, due_at);
CREATE TABLE IF NOT EXISTS faults (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    op        TEXT NOT NULL,
    spec      TEXT NOT NULL,
    remaining INTEGER NOT NULL
);
"""

# How long a new agent reports STARTING before RUNNING, as a real bot takes to join.
STARTUP_SECONDS = 1.0
# Agora's words for an agent that left (docs/agora.md, "Notifications"), as query and 102 say them.
LEFT_OK = "OK"
IDLE_MESSAGE = "Idle for too long"
# Only an idle timeout (and a normal end) is STOPPED; every other reason is a failure.
STOPPED_MESSAGES = frozenset({LEFT_OK, IDLE_MESSAGE})


class NameTaken(Exception):
    """An agent with this name exists (Agora: names are unique and never reused)."""


class BotUidTaken(Exception):
    """A running agent in the channel already uses this pubBotUid."""


@dataclass(frozen=True)
class Agent:
    agent_id: str
    app_id: str
    name: str
    channel: str
    languages: list[str]
    pub_bot_uid: str
    sub_bot_uid: str | None
    max_idle_time: int
    create_ts: float
    last_activity: float
    stopped_ts: float | None
    stop_reason: str | None
    sequence_id: int
    # What the agent runs with besides its languages: uidLanguagesConfig, translateConfig,
    # subscribeAudioUids/unSubscribeAudioUids, keywords, enableJsonProtocol, captionConfig (no keys).
    options: dict[str, Any]
    changed_ts: float  # the join, or the last update: Agora wants 5 s before the next update

    fail_at: float | None = None  # an injected failure (/sandbox/faults "fail") strikes then
    fail_message: str | None = None
    end_noticed: int = 0  # its 102 notification is queued

    def idle_deadline(self) -> float:
        return self.last_activity + self.max_idle_time

    def ending(self, now: float) -> tuple[str, str, float] | None:
        """(status, Agora's message, when) if the agent has ended by `now`: a leave, a failure or idleness, first."""
        endings = [(self.idle_deadline(), IDLE_MESSAGE)]
        if self.stopped_ts is not None:
            endings.append((self.stopped_ts, self.stop_reason or LEFT_OK))
        if self.fail_at is not None:
            endings.append((self.fail_at, self.fail_message or "Fatal ASR error"))
        at, message = min(endings, key=lambda ending: ending[0])
        if at > now:
            return None
        return ("STOPPED" if message in STOPPED_MESSAGES else "FAILED"), message, at

    def is_stopped(self, now: float) -> bool:
        return self.ending(now) is not None

    def status(self, now: float) -> str:
        """Agora's 7.x lifecycle: STARTING, RUNNING, then STOPPED (leave, idle timeout) or FAILED."""
        ending = self.ending(now)
        if ending is not None:
            return ending[0]
        return "STARTING" if now - self.create_ts < STARTUP_SECONDS else "RUNNING"

    def stop_message(self, now: float) -> str | None:
        ending = self.ending(now)
        return ending[1] if ending else None


class SandboxStore:
    """Agents and injected faults, shared by threads and processes through one SQLite file.

    `clock` is the emulator's time (unix seconds): tests pass their own to move it.
    """

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._file = SqliteFile(path)
        self._db = self._file.connection
        self._transaction = self._file.transaction
        # Workers start at once: one transaction, so only one of them (re)creates the schema.
        with self._transaction() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                db.execute("DROP TABLE IF EXISTS agents")
                db.execute("DROP TABLE IF EXISTS faults")
                db.execute("DROP TABLE IF EXISTS updates")
                db.execute("DROP TABLE IF EXISTS notices")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- agents -----------------------------------------------------------------------------

    def create_agent(
        self,
        *,
        app_id: str,
        name: str,
        channel: str,
        languages: list[str],
        pub_bot_uid: str,
        sub_bot_uid: str | None,
        max_idle_time: int,
        now: float,
        options: dict[str, Any] | None = None,
        fail_after: float | None = None,
        fail_message: str | None = None,
    ) -> Agent:
        agent_id = uuid.uuid4().hex.upper()
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM agents WHERE app_id = ? AND name = ?", (app_id, name)).fetchone():
                raise NameTaken(name)
            for row in db.execute(
                "SELECT * FROM agents WHERE app_id = ? AND channel = ? AND pub_bot_uid = ? AND stopped_ts IS NULL",
                (app_id, channel, pub_bot_uid),
            ):
                if not _agent(row).is_stopped(now):
                    raise BotUidTaken(pub_bot_uid)
            db.execute(
                "INSERT INTO agents (agent_id, app_id, name, channel, languages, pub_bot_uid, sub_bot_uid,"
                " max_idle_time, create_ts, last_activity, options, changed_ts, fail_at, fail_message)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    agent_id,
                    app_id,
                    name,
                    channel,
                    json.dumps(languages),
                    pub_bot_uid,
                    sub_bot_uid,
                    max_idle_time,
                    now,
                    now,
                    json.dumps(options or {}),
                    now,
                    None if fail_after is None else now + fail_after,
                    fail_message,
                ),
            )
        agent = self.get_agent(app_id, agent_id)
        assert agent is not None
        return agent

    def get_agent(self, app_id: str, agent_id: str) -> Agent | None:
        row = (
            self._db().execute("SELECT * FROM agents WHERE app_id = ? AND agent_id = ?", (app_id, agent_id)).fetchone()
        )
        return _agent(row) if row else None

    def list_agents(self, app_id: str, channel: str | None = None) -> list[Agent]:
        query, args = "SELECT * FROM agents WHERE app_id = ?", [app_id]
        if channel is not None:
            query += " AND channel = ?"
            args.append(channel)
        return [_agent(row) for row in self._db().execute(query + " ORDER BY create_ts DESC", args)]

    def stop_agent(self, app_id: str, agent_id: str, reason: str, now: float) -> bool:
        """Stop a live agent; False if it is unknown or already stopped (by leave or idleness)."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM agents WHERE app_id = ? AND agent_id = ?", (app_id, agent_id)).fetchone()
            if row is None or _agent(row).is_stopped(now):
                return False
            db.execute("UPDATE agents SET stopped_ts = ?, stop_reason = ? WHERE agent_id = ?", (now, reason, agent_id))
        return True

    def update_agent(
        self, app_id: str, agent_id: str, sequence_id: int, mask: list[str], changes: dict[str, Any], now: float
    ) -> None:
        """Apply an update: `changes` replaces whole fields (languages, or option keys), and it is recorded."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM agents WHERE app_id = ? AND agent_id = ?", (app_id, agent_id)).fetchone()
            if row is None:
                return
            agent = _agent(row)
            languages = changes.pop("languages", agent.languages)
            options = {**agent.options, **changes}
            db.execute(
                "UPDATE agents SET sequence_id = ?, languages = ?, options = ?, changed_ts = ? WHERE agent_id = ?",
                (sequence_id, json.dumps(languages), json.dumps(options), now, agent_id),
            )
            db.execute(
                "INSERT INTO updates (agent_id, sequence_id, mask, received_ts) VALUES (?, ?, ?, ?)",
                (agent_id, sequence_id, ",".join(mask), now),
            )

    def updates_of(self, agent_id: str) -> list[dict[str, Any]]:
        """Every update the agent took, oldest first: what tests check sequencing and spacing with."""
        rows = self._db().execute(
            "SELECT sequence_id, mask, received_ts FROM updates WHERE agent_id = ? ORDER BY received_ts, sequence_id",
            (agent_id,),
        )
        return [
            {"sequenceId": row["sequence_id"], "updateMask": row["mask"].split(","), "receivedTs": row["received_ts"]}
            for row in rows
        ]

    def touch(self, agent_id: str, now: float) -> None:
        """Someone is in the channel: push the idle deadline back."""
        with self._transaction() as db:
            db.execute(
                "UPDATE agents SET last_activity = ? WHERE agent_id = ? AND stopped_ts IS NULL"
                " AND last_activity + max_idle_time > ?",
                (now, agent_id, now),
            )

    # -- the notifications outbox (sandbox.notifier) --------------------------------------------

    def enqueue_notice(self, agent_id: str, event_type: int, payload: dict[str, Any], due_at: float | None) -> str:
        """Queue one NCS event; `due_at` None holds it until release_held. Returns its noticeId."""
        notice_id = uuid.uuid4().hex
        with self._transaction() as db:
            db.execute(
                "INSERT INTO notices (agent_id, notice_id, event_type, payload, due_at) VALUES (?, ?, ?, ?, ?)",
                (agent_id, notice_id, event_type, json.dumps(payload), due_at),
            )
        return notice_id

    def release_held(self, agent_id: str, due_at: float) -> None:
        with self._transaction() as db:
            db.execute("UPDATE notices SET due_at = ? WHERE agent_id = ? AND due_at IS NULL", (due_at, agent_id))

    def note_ends(self, now: float) -> list[Agent]:
        """Agents that ended by `now` and whose end nobody has queued yet; each is returned to one caller only."""
        # A plain read first: the sender of every worker looks several times a second, and most
        # looks find nothing, so they take no write lock.
        rows = self._db().execute("SELECT * FROM agents WHERE end_noticed = 0").fetchall()
        if not any(_agent(row).is_stopped(now) for row in rows):
            return []
        with self._transaction() as db:
            rows = db.execute("SELECT * FROM agents WHERE end_noticed = 0").fetchall()
            ended = [agent for agent in map(_agent, rows) if agent.is_stopped(now)]
            for agent in ended:
                db.execute("UPDATE agents SET end_noticed = 1 WHERE agent_id = ?", (agent.agent_id,))
        return ended

    def take_due_notices(self, now: float, hold_seconds: float) -> list[dict[str, Any]]:
        """Due notices, taken by this caller for `hold_seconds` (another worker's sender skips them)."""
        due = "SELECT * FROM notices WHERE done = 0 AND due_at IS NOT NULL AND due_at <= ? AND taken_until <= ?"
        if self._db().execute(due + " LIMIT 1", (now, now)).fetchone() is None:
            return []  # nothing due: no write lock taken
        with self._transaction() as db:
            rows = db.execute(due + " ORDER BY due_at, id LIMIT 50", (now, now)).fetchall()
            for row in rows:
                db.execute("UPDATE notices SET taken_until = ? WHERE id = ?", (now + hold_seconds, row["id"]))
        return [{**dict(row), "payload": json.loads(row["payload"])} for row in rows]

    def finish_notice(self, notice_row_id: int, *, retry_at: float | None) -> None:
        """Delivered (retry_at None), or to be sent again at `retry_at`."""
        with self._transaction() as db:
            if retry_at is None:
                db.execute("UPDATE notices SET done = 1 WHERE id = ?", (notice_row_id,))
            else:
                db.execute(
                    "UPDATE notices SET attempts = attempts + 1, due_at = ?, taken_until = 0 WHERE id = ?",
                    (retry_at, notice_row_id),
                )

    def notices_of(self, agent_id: str) -> list[dict[str, Any]]:
        rows = self._db().execute("SELECT * FROM notices WHERE agent_id = ? ORDER BY id", (agent_id,))
        return [{**dict(row), "payload": json.loads(row["payload"])} for row in rows]

    # -- faults -----------------------------------------------------------------------------

    def add_fault(self, op: str, spec: dict[str, Any], count: int = 1) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO faults (op, spec, remaining) VALUES (?, ?, ?)", (op, json.dumps(spec), count))

    def take_fault(self, op: str) -> dict[str, Any] | None:
        """The oldest fault queued for `op` (or for any call), used up once."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT id, spec, remaining FROM faults WHERE op IN (?, 'any') ORDER BY id LIMIT 1", (op,)
            ).fetchone()
            if row is None:
                return None
            fault_id, spec, remaining = row
            if remaining <= 1:
                db.execute("DELETE FROM faults WHERE id = ?", (fault_id,))
            else:
                db.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (fault_id,))
        return json.loads(spec)

    def clear_faults(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM faults")


def _agent(row: sqlite3.Row) -> Agent:
    values = dict(row)
    values["languages"] = json.loads(values["languages"])
    values["options"] = json.loads(values["options"])
    return Agent(**values)
