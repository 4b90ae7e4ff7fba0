"""The sandbox's Agora Notifications (NCS): signed 101/102 callbacks for its agents, posted to the service.

As Agora does (docs/agora.md, "Notifications"): one POST per event, the body signed with
HMAC-SHA1 and HMAC-SHA256 of the NCS secret, resent at once and then at growing intervals
(three retries) until the service answers 200. Optionally every event is delivered twice
(the resend keeps its noticeId and changes notifyMs) and each 101 after its agent's 102.

The outbox is in the sandbox's SQLite store, so that under gunicorn every worker's sender
takes each notice once. A background thread per process looks for agents that ended (a leave,
an idle timeout, an injected failure) and sends what is due; it starts lazily (`start`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import requests

from sandbox.store import STARTUP_SECONDS, Agent, SandboxStore
from utils.ncs_signature import V1_HEADER, V2_HEADER, sign

logger = logging.getLogger("sandbox.notifier")

RTT_PRODUCT_ID = 20
AGENT_JOINED, AGENT_LEFT = 101, 102
RETRY_DELAYS = (0.0, 1.0, 3.0)  # at once, then growing: three retries, as Agora's NCS
TICK_SECONDS = 0.2
SEND_TIMEOUT = 10.0  # Agora's own limit for an answer
REORDER_GAP = 0.3  # a held 101 goes this long after its agent's 102


class Notifier:
    """Queues and posts one project's NCS events. `url` gives where to post (None: not known yet)."""

    def __init__(
        self,
        store: SandboxStore,
        secret: str,
        url: Callable[[], str | None],
        *,
        duplicates: bool = False,
        reorder: bool = False,
    ) -> None:
        self.store, self.secret, self.url = store, secret, url
        self.duplicates, self.reorder = duplicates, reorder
        self.session = requests.Session()  # its own: the service's Session routes only Agora's host here
        self._started_pid: int | None = None
        self._lock = threading.Lock()

    # -- what happens to agents ----------------------------------------------------------------

    def joined(self, agent: Agent) -> None:
        """A join: its 101 when the bot is in the channel (held until the 102 when reordering)."""
        payload = {"agent_id": agent.agent_id, "channel": agent.channel, "start_ts": int(agent.create_ts)}
        due = None if self.reorder else agent.create_ts + STARTUP_SECONDS
        self.store.enqueue_notice(agent.agent_id, AGENT_JOINED, payload, due)

    def note_ends(self, now: float) -> int:
        """Queue a 102 for every agent that ended since the last look (on any worker); how many."""
        ended = self.store.note_ends(now)
        for agent in ended:
            status, message, at = agent.ending(now) or ("STOPPED", "OK", now)
            payload = {
                "agent_id": agent.agent_id,
                "channel": agent.channel,
                "message": message,
                "start_ts": int(agent.create_ts),
                "status": status,
                "stop_ts": int(at),
            }
            self.store.enqueue_notice(agent.agent_id, AGENT_LEFT, payload, now)
            if self.reorder:
                self.store.release_held(agent.agent_id, now + REORDER_GAP)
        return len(ended)

    # -- delivery --------------------------------------------------------------------------------

    def deliver_due(self, now: float) -> int:
        """Post every due notice (taken by this process alone); how many the service accepted."""
        url = self.url()
        if url is None:
            return 0
        delivered = 0
        for notice in self.store.take_due_notices(now, hold_seconds=SEND_TIMEOUT + 5):
            # A duplicate is a resend: same noticeId, a later notifyMs, so other bytes and signatures.
            sends = [now, now + 0.5] if self.duplicates else [now]
            accepted = all([self._post(url, notice, at) for at in sends])
            if accepted:
                self.store.finish_notice(notice["id"], retry_at=None)
                delivered += 1
            elif notice["attempts"] < len(RETRY_DELAYS):
                self.store.finish_notice(notice["id"], retry_at=now + RETRY_DELAYS[notice["attempts"]])
            else:
                logger.warning("gave up on notice %s for agent %s", notice["notice_id"], notice["agent_id"])
                self.store.finish_notice(notice["id"], retry_at=None)
        return delivered

    def body(self, notice: dict[str, Any], now: float) -> bytes:
        """The bytes Agora would post: notifyMs is the moment of sending, so a resend differs."""
        event = {
            "sid": notice["agent_id"],
            "noticeId": notice["notice_id"],
            "productId": RTT_PRODUCT_ID,
            "eventType": notice["event_type"],
            "notifyMs": int(now * 1000),
            "payload": notice["payload"],
        }
        return json.dumps(event, separators=(",", ":")).encode()

    def _post(self, url: str, notice: dict[str, Any], now: float) -> bool:
        raw = self.body(notice, now)
        headers = {
            "Content-Type": "application/json",
            V1_HEADER: sign(raw, self.secret, V1_HEADER),
            V2_HEADER: sign(raw, self.secret, V2_HEADER),
        }
        try:
            answer = self.session.post(url, data=raw, headers=headers, timeout=(3.05, SEND_TIMEOUT))
        except requests.RequestException as exc:
            logger.warning("notice %s not delivered to %s: %s", notice["notice_id"], url, type(exc).__name__)
            return False
        return answer.status_code == 200

    # -- the background thread -------------------------------------------------------------------

    def tick(self) -> None:
        now = self.store.clock()
        self.note_ends(now)
        self.deliver_due(now)

    def start(self) -> None:
        """Run `tick` in a daemon thread of this process, once (a forked worker starts its own)."""
        if self._started_pid == os.getpid():
            return
        with self._lock:
            if self._started_pid != os.getpid():
                threading.Thread(target=self._run, name="sandbox-notifier", daemon=True).start()
                self._started_pid = os.getpid()

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # one bad pass (a locked file, a closed store) must not end the thread
                logger.exception("sandbox notifier pass failed")
