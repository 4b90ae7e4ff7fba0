"""What the service remembers across requests, workers and machines: one interface, two stores.

Every method is one atomic step in the store (a transaction in SQLite, a script or a single
command in Redis): two workers can never both read "free" and both write "mine".
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace

# Agora's 7.x statuses of an agent that is gone for good.
ENDED_STATUSES = frozenset({"STOPPED", "FAILED"})
# How long an ended task stays readable (query, transcripts); then it may be forgotten.
ENDED_TASK_SECONDS = 7 * 86_400


@dataclass(frozen=True)
class Task:
    """One transcription agent, as the registry knows it. No token and no secret is kept."""

    task_id: str
    channel: str
    status: str
    create_ts: int
    pub_bot_uid: int | None = None
    sub_bot_uid: int | None = None
    languages: list[str] = field(default_factory=list)
    ended_ts: float | None = None
    end_reason: str | None = None
    adopted: bool = False  # found running at Agora rather than started through this registry
    records_captions: bool = False  # started with recordCaptions: its caption files go to the storage

    @property
    def ended(self) -> bool:
        return self.ended_ts is not None

    def finished(self, *, status: str, reason: str, at: float) -> Task:
        return replace(self, status=status, end_reason=reason, ended_ts=round(at, 3))

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Task:
        values = json.loads(text)
        # Redis's Lua JSON writes an empty list as {}: a list is what was stored.
        values["languages"] = list(values.get("languages") or [])
        return cls(**values)


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a channel: exactly one of `task`, `won` or held by someone else.

    `stale_since` is set when the caller won over an earlier claim that expired without an
    outcome (its holder died mid-join): an agent may then be running that nobody recorded.
    """

    task: Task | None = None
    won: bool = False
    stale_since: float | None = None

    @property
    def held_by_another(self) -> bool:
        return self.task is None and not self.won


class Store(ABC):
    """The registry of tasks by channel, plus the small shared facts that go with it."""

    # -- the task registry ----------------------------------------------------------------

    @abstractmethod
    def claim_channel(self, channel: str, owner: str, lease_seconds: float) -> Claim:
        """The running task of `channel`, or the claim to start one (held for `lease_seconds`)."""

    @abstractmethod
    def release_claim(self, channel: str, owner: str, *, outcome_unknown: bool = False) -> None:
        """Give up `owner`'s claim at once (its join failed): the next start may try.

        `outcome_unknown` (a join that timed out may still have started an agent): the claim
        ends but is remembered as stale, so the next claimant looks at Agora before joining.
        """

    @abstractmethod
    def record_task(self, task: Task, owner: str | None = None) -> Task:
        """Register a running task for its channel, ending `owner`'s claim; returns what is registered.

        If another task already runs in the channel (two adoptions raced), that one is kept.
        """

    @abstractmethod
    def get_task(self, task_id: str) -> Task | None:
        """The task, running or ended (while it is kept), or None."""

    @abstractmethod
    def task_for_channel(self, channel: str) -> Task | None:
        """The running task of `channel`, or None."""

    @abstractmethod
    def last_ended_task(self, channel: str) -> Task | None:
        """The task of `channel` that ended last (while it is kept), or None: why captions there stopped."""

    @abstractmethod
    def end_task(self, task_id: str, *, status: str, reason: str, at: float) -> Task | None:
        """Mark a task ended and free its channel. An ended task stays as it ended; None if unknown."""

    @abstractmethod
    def set_status(self, task_id: str, status: str) -> Task | None:
        """Record Agora's latest status of a running task (never of an ended one)."""

    @abstractmethod
    def running_tasks(self) -> list[Task]:
        """Every task the registry believes is running."""

    @abstractmethod
    def stale_claims(self) -> dict[str, float]:
        """Channels whose claim expired without an outcome, with when they were claimed."""

    @abstractmethod
    def channel_tasks(self, channel: str) -> list[Task]:
        """Every task of `channel` still kept, running or ended, oldest first."""

    # -- speaker names ----------------------------------------------------------------------

    @abstractmethod
    def put_speaker(self, channel: str, uid: int, name: str, keep_seconds: float) -> None:
        """Name `uid` in `channel` for `keep_seconds` (its token's lifetime); a later name replaces it."""

    @abstractmethod
    def speakers(self, channel: str) -> dict[int, str]:
        """The channel's named uids whose name has not expired."""

    @abstractmethod
    def keep_task_speakers(self, task_id: str, names: Mapping[int, str], keep_seconds: float) -> None:
        """Add `names` to the task's; all of them are kept `keep_seconds` from now (as long as its transcript)."""

    @abstractmethod
    def task_speakers(self, task_id: str) -> dict[int, str]:
        """The names kept with a task, or {} once they expired or were forgotten."""

    @abstractmethod
    def forget_task_speakers(self, task_id: str) -> int:
        """Forget the names kept with a task (someone asked to be forgotten); how many there were."""

    # -- small shared facts -----------------------------------------------------------------

    @abstractmethod
    def first_sighting(self, key: str, keep_seconds: float) -> bool:
        """True the first time `key` is seen within `keep_seconds` (deduplication), else False."""

    @abstractmethod
    def next_sequence_id(self, key: str, keep_seconds: float = ENDED_TASK_SECONDS) -> int:
        """1, 2, 3, ... for `key`: strictly increasing across every worker and machine."""

    @abstractmethod
    def acquire(self, name: str, seconds: float) -> float:
        """Take the lease `name` for `seconds` if it is free: 0.0, else the seconds until it is."""

    @abstractmethod
    def hold(self, name: str, seconds: float) -> None:
        """Keep the lease `name` taken for `seconds` from now, whoever holds it."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
