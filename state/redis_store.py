"""The store for several machines: Redis (REDIS_URL), every multi-key step a Lua script.

Keys, under one prefix:
  task:<id>        the task as JSON (an ended one expires after ENDED_TASK_SECONDS)
  channel:<name>   the id of the channel's running task
  ended:<name>     the id of the channel's task that ended last (expires with it)
  claim:<name>     who is starting a task in the channel; expires with the lease (PX)
  pending          sorted set: channels claimed and not yet finished, scored by claim time
  running          set of running task ids
  seen:<key>, seq:<key>, lease:<name>
  tasks-of:<name>  sorted set: the channel's task ids by creation time (running and ended ones)
  names:<channel>, names-until:<channel>  uid -> speaker name, and uid -> when it expires (ms)
  task-names:<id>  uid -> speaker name kept with a task; the hash expires as a whole
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import redis

from state.store import ENDED_TASK_SECONDS, Claim, Store, Task

STALE_CLAIM_SECONDS = 86_400
# Connections to Redis per process; every call holds one for well under a millisecond.
MAX_CONNECTIONS = 32

# KEYS: channel, claim, pending. ARGV: task prefix, owner, lease ms, channel name, now.
_CLAIM = """
local running = redis.call('GET', KEYS[1])
if running then
  local task = redis.call('GET', ARGV[1] .. running)
  if task then
    local decoded = cjson.decode(task)
    if decoded['ended_ts'] == cjson.null or decoded['ended_ts'] == nil then return {'task', task} end
  end
  redis.call('DEL', KEYS[1])
end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  local stale = redis.call('ZSCORE', KEYS[3], ARGV[4])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4])
  if stale then return {'won', stale} end
  return {'won'}
end
return {'held'}
"""

# KEYS: claim, pending. ARGV: owner, channel name, keep as stale ("1" or "").
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if ARGV[3] == '' then redis.call('ZREM', KEYS[2], ARGV[2]) end
end
"""

# KEYS: channel, claim, pending, running, task, tasks-of. ARGV: task prefix, owner, channel name, task id,
# task JSON, create ts, keep seconds (the channel's index lives as long as its latest ended task).
_RECORD = """
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[4] then
  local task = redis.call('GET', ARGV[1] .. current)
  if task then
    local decoded = cjson.decode(task)
    if decoded['ended_ts'] == cjson.null or decoded['ended_ts'] == nil then
      redis.call('ZREM', KEYS[3], ARGV[3])
      return task
    end
  end
end
redis.call('SET', KEYS[5], ARGV[5])
redis.call('SET', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[3])
redis.call('ZADD', KEYS[6], ARGV[6], ARGV[4])
redis.call('EXPIRE', KEYS[6], ARGV[7])
return ARGV[5]
"""

# KEYS: task, running. ARGV: channel prefix, task id, status, reason, at, keep seconds, ended prefix,
# task prefix, tasks-of prefix.
_END = """
local text = redis.call('GET', KEYS[1])
if not text then return false end
local task = cjson.decode(text)
if task['ended_ts'] ~= cjson.null and task['ended_ts'] ~= nil then return text end
task['status'] = ARGV[3]
task['end_reason'] = ARGV[4]
task['ended_ts'] = tonumber(ARGV[5])
local ended = cjson.encode(task)
redis.call('SET', KEYS[1], ended, 'EX', ARGV[6])
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('EXPIRE', ARGV[9] .. task['channel'], ARGV[6])  -- the channel's index lives as long as this task
local channel = ARGV[1] .. task['channel']
if redis.call('GET', channel) == ARGV[2] then redis.call('DEL', channel) end
-- the channel's last ended task: by end time, as events may be applied out of order
local last_key = ARGV[7] .. task['channel']
local last = redis.call('GET', last_key)
local last_text = last and redis.call('GET', ARGV[8] .. last)
if not last_text or (cjson.decode(last_text)['ended_ts'] or 0) <= task['ended_ts'] then
  redis.call('SET', last_key, ARGV[2], 'EX', ARGV[6])
end
return ended
"""

# KEYS: task. ARGV: status.
_SET_STATUS = """
local text = redis.call('GET', KEYS[1])
if not text then return false end
local task = cjson.decode(text)
if task['ended_ts'] ~= cjson.null and task['ended_ts'] ~= nil then return false end
if task['status'] ~= ARGV[1] then
  task['status'] = ARGV[1]
  text = cjson.encode(task)
  redis.call('SET', KEYS[1], text)
end
return text
"""

# KEYS: seq. ARGV: keep seconds.
_NEXT = """
local value = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return value
"""

# KEYS: lease. ARGV: ms.
_ACQUIRE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then left = 0 end
return left
"""


# A hash has no expiry per field (before Redis 7.4): a sorted set beside it holds each
# name's expiry, and every step drops the expired names from both, on Redis's own clock.
# KEYS: names, names-until. ARGV: uid, name, keep ms.
_PUT_SPEAKER = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now_ms)
for _, uid in ipairs(gone) do redis.call('HDEL', KEYS[1], uid) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now_ms + tonumber(ARGV[3]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local keep = tonumber(last[2]) - now_ms
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('PEXPIRE', KEYS[2], keep)
"""

# KEYS: names, names-until. Returns uid, name, uid, name, ...
_SPEAKERS = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now_ms, '+inf')
local answer = {}
for _, uid in ipairs(live) do
  local name = redis.call('HGET', KEYS[1], uid)
  if name then table.insert(answer, uid); table.insert(answer, name) end
end
return answer
"""


class RedisStore(Store):
    """Expiry is Redis's own (PX/EX), so every machine agrees on it; `clock` only stamps claims."""

    def __init__(self, url: str, prefix: str = "rtt:", clock: Callable[[], float] = time.time) -> None:
        self.prefix = prefix
        self.clock = clock
        # A blocking pool: a gevent worker can have hundreds of requests at a store call at once,
        # and redis-py's default pool fails the 101st with "Too many connections"; this one makes
        # it wait (at most the socket timeout) for one of MAX_CONNECTIONS.
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=5,
            socket_timeout=5,
            socket_connect_timeout=3,
            health_check_interval=30,
        )
        self.redis = redis.Redis(connection_pool=pool)
        self._claim = self.redis.register_script(_CLAIM)
        self._release = self.redis.register_script(_RELEASE)
        self._record = self.redis.register_script(_RECORD)
        self._end = self.redis.register_script(_END)
        self._set_status = self.redis.register_script(_SET_STATUS)
        self._next = self.redis.register_script(_NEXT)
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._put_speaker = self.redis.register_script(_PUT_SPEAKER)
        self._speakers = self.redis.register_script(_SPEAKERS)

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # -- the task registry ----------------------------------------------------------------

    def claim_channel(self, channel: str, owner: str, lease_seconds: float) -> Claim:
        answer = self._claim(
            keys=[self._key("channel", channel), self._key("claim", channel), self._key("pending")],
            args=[self._key("task", ""), owner, max(1, int(lease_seconds * 1000)), channel, self.clock()],
        )
        kind = answer[0].decode()
        if kind == "task":
            return Claim(task=Task.from_json(answer[1]))
        if kind == "won":
            return Claim(won=True, stale_since=float(answer[1]) if len(answer) > 1 else None)
        return Claim()

    def release_claim(self, channel: str, owner: str, *, outcome_unknown: bool = False) -> None:
        self._release(
            keys=[self._key("claim", channel), self._key("pending")],
            args=[owner, channel, "1" if outcome_unknown else ""],
        )

    def record_task(self, task: Task, owner: str | None = None) -> Task:
        kept = self._record(
            keys=[
                self._key("channel", task.channel),
                self._key("claim", task.channel),
                self._key("pending"),
                self._key("running"),
                self._key("task", task.task_id),
                self._key("tasks-of", task.channel),
            ],
            args=[
                self._key("task", ""),
                owner or "",
                task.channel,
                task.task_id,
                task.to_json(),
                task.create_ts,
                ENDED_TASK_SECONDS,
            ],
        )
        return Task.from_json(kept)

    def get_task(self, task_id: str) -> Task | None:
        text = self.redis.get(self._key("task", task_id))
        return Task.from_json(text) if text else None

    def task_for_channel(self, channel: str) -> Task | None:
        task_id = self.redis.get(self._key("channel", channel))
        task = self.get_task(task_id.decode()) if task_id else None
        return task if task is not None and not task.ended else None

    def last_ended_task(self, channel: str) -> Task | None:
        task_id = self.redis.get(self._key("ended", channel))
        task = self.get_task(task_id.decode()) if task_id else None
        return task if task is not None and task.ended else None

    def end_task(self, task_id: str, *, status: str, reason: str, at: float) -> Task | None:
        text = self._end(
            keys=[self._key("task", task_id), self._key("running")],
            # Milliseconds: Lua's JSON keeps 14 significant digits, which a unix time in ms fits.
            args=[
                self._key("channel", ""),
                task_id,
                status,
                reason,
                round(at, 3),
                ENDED_TASK_SECONDS,
                self._key("ended", ""),
                self._key("task", ""),
                self._key("tasks-of", ""),
            ],
        )
        return Task.from_json(text) if text else None

    def set_status(self, task_id: str, status: str) -> Task | None:
        text = self._set_status(keys=[self._key("task", task_id)], args=[status])
        return Task.from_json(text) if text else None

    def running_tasks(self) -> list[Task]:
        ids = sorted(member.decode() for member in self.redis.smembers(self._key("running")))
        if not ids:
            return []
        texts = self.redis.mget([self._key("task", task_id) for task_id in ids])
        tasks = [Task.from_json(text) for text in texts if text]
        return sorted((task for task in tasks if not task.ended), key=lambda task: (task.create_ts, task.task_id))

    def stale_claims(self) -> dict[str, float]:
        pending = self._key("pending")
        self.redis.zremrangebyscore(pending, "-inf", self.clock() - STALE_CLAIM_SECONDS)
        stale = {}
        for member, claimed_at in self.redis.zrange(pending, 0, -1, withscores=True):
            channel = member.decode()
            if not self.redis.exists(self._key("claim", channel)):
                stale[channel] = claimed_at
        return stale

    def channel_tasks(self, channel: str) -> list[Task]:
        key = self._key("tasks-of", channel)
        ids = [member.decode() for member in self.redis.zrange(key, 0, -1)]
        if not ids:
            return []
        texts = self.redis.mget([self._key("task", task_id) for task_id in ids])
        expired = [task_id for task_id, text in zip(ids, texts, strict=True) if not text]
        if expired:
            self.redis.zrem(key, *expired)
        tasks = [Task.from_json(text) for text in texts if text]
        return sorted(tasks, key=lambda task: (task.create_ts, task.task_id))

    # -- speaker names ----------------------------------------------------------------------

    def put_speaker(self, channel: str, uid: int, name: str, keep_seconds: float) -> None:
        self._put_speaker(
            keys=[self._key("names", channel), self._key("names-until", channel)],
            args=[uid, name, max(1, int(keep_seconds * 1000))],
        )

    def speakers(self, channel: str) -> dict[int, str]:
        flat = self._speakers(keys=[self._key("names", channel), self._key("names-until", channel)])
        pairs = {int(flat[index]): flat[index + 1].decode() for index in range(0, len(flat), 2)}
        return dict(sorted(pairs.items()))

    def keep_task_speakers(self, task_id: str, names: Mapping[int, str], keep_seconds: float) -> None:
        key = self._key("task-names", task_id)
        with self.redis.pipeline(transaction=True) as pipe:
            if names:
                pipe.hset(key, mapping={str(uid): name for uid, name in names.items()})
            pipe.pexpire(key, max(1, int(keep_seconds * 1000)))
            pipe.execute()

    def task_speakers(self, task_id: str) -> dict[int, str]:
        names = self.redis.hgetall(self._key("task-names", task_id))
        return dict(sorted((int(uid), name.decode()) for uid, name in names.items()))

    def forget_task_speakers(self, task_id: str) -> int:
        key = self._key("task-names", task_id)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hlen(key)
            pipe.delete(key)
            count, _deleted = pipe.execute()
        return int(count)

    # -- small shared facts -----------------------------------------------------------------

    def first_sighting(self, key: str, keep_seconds: float) -> bool:
        return bool(self.redis.set(self._key("seen", key), "1", nx=True, px=max(1, int(keep_seconds * 1000))))

    def next_sequence_id(self, key: str, keep_seconds: float = ENDED_TASK_SECONDS) -> int:
        return int(self._next(keys=[self._key("seq", key)], args=[max(1, int(keep_seconds))]))

    def acquire(self, name: str, seconds: float) -> float:
        left_ms = self._acquire(keys=[self._key("lease", name)], args=[max(1, int(seconds * 1000))])
        return int(left_ms) / 1000

    def hold(self, name: str, seconds: float) -> None:
        self.redis.set(self._key("lease", name), "1", px=max(1, int(seconds * 1000)))

    def close(self) -> None:
        self.redis.close()
        self.redis.connection_pool.disconnect()  # a pool given to Redis() is not closed by it
