"""The sandbox's caption recording: the scripted conversation as WebVTT slices and playlists.

An agent started with a captionConfig gets, as Agora's would (docs/agora.md, "Caption
storage"): one playlist per spoken language and one per translation target, named
`[<lang>_]<taskId>_<channel>.m3u8` under fileNamePrefix, each listing a `.vtt` slice per
`sliceDuration` seconds, cues stamped with the wall clock and labelled `<v uid>`. A playlist
is re-uploaded as slices complete and gets `#EXT-X-ENDLIST` once the agent has left.

Nothing runs in the background: whenever the emulator sees an agent (query, leave, list, the
caption stream), it writes the slices completed since. A row per agent says how far it got,
and is advanced atomically, so two workers never write the same slices at once.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.captions import SPEAKERS, conversation, speaker_language, translation_targets
from sandbox.store import Agent
from state.sqlite_file import SqliteFile
from utils.caption_files import (
    PLAYLIST_TYPE,
    SLICE_TYPE,
    folder,
    format_playlist,
    format_slice,
    playlist_name,
)
from utils.caption_storage import CaptionStorage, StorageError

logger = logging.getLogger("sandbox.recording")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS caption_progress (
    agent_id TEXT PRIMARY KEY,
    slices   INTEGER NOT NULL,
    ended    INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class Sentence:
    start: float  # seconds after the agent's start
    end: float
    speaker: int
    event: object  # the final CaptionEvent, whose text_in() gives the words in any language


class CaptionRecorder:
    """`storage_for(agent)` is the bucket an agent's captionConfig means (None: not recorded)."""

    def __init__(self, db_path: str, storage_for: Callable[[Agent], CaptionStorage | None]) -> None:
        self._file = SqliteFile(db_path)
        self.storage_for = storage_for
        with self._file.transaction() as db:
            db.execute(_SCHEMA)

    def flush(self, agent: Agent, now: float) -> int:
        """Write the slices completed by `now` (all of them once the agent left); how many were new."""
        caption = agent.options.get("captionConfig")
        if not caption:
            return 0
        duration = int(caption.get("sliceDuration") or 60)
        stopped = agent.stopped_ts if agent.stopped_ts is not None else None
        if stopped is None and agent.is_stopped(now):
            stopped = agent.idle_deadline()
        until = (stopped if stopped is not None else now) - agent.create_ts
        total = math.ceil(until / duration) if stopped is not None else math.floor(until / duration)
        ended = stopped is not None
        done = self._advance(agent.agent_id, total, ended)
        if done is None:
            return 0
        storage = self.storage_for(agent)
        if storage is None:
            return 0
        try:
            self._write(storage, agent, caption, duration, done, total, until, ended)
        except StorageError as exc:
            # Agora's API goes on when its bucket fails; the slices are tried again next time.
            logger.warning("sandbox: caption files of %s not written: %s", agent.agent_id, exc.reason)
            self._rewind(agent.agent_id, done)
            return 0
        return total - done

    def _rewind(self, agent_id: str, done: int) -> None:
        with self._file.transaction() as db:
            db.execute("UPDATE caption_progress SET slices = ?, ended = 0 WHERE agent_id = ?", (done, agent_id))

    def _advance(self, agent_id: str, total: int, ended: bool) -> int | None:
        """Claim the slices from the last written one up to `total`: the first to write, or None."""
        with self._file.transaction() as db:
            row = db.execute("SELECT slices, ended FROM caption_progress WHERE agent_id = ?", (agent_id,)).fetchone()
            done, was_ended = (row["slices"], bool(row["ended"])) if row else (0, False)
            if was_ended or (total <= done and not ended):
                return None
            db.execute(
                "INSERT OR REPLACE INTO caption_progress (agent_id, slices, ended) VALUES (?, ?, ?)",
                (agent_id, max(total, done), int(ended)),
            )
            return done

    def _write(
        self,
        storage: CaptionStorage,
        agent: Agent,
        caption: dict,
        duration: int,
        first: int,
        total: int,
        until: float,
        ended: bool,
    ) -> None:
        prefix = folder(caption.get("fileNamePrefix") or [])
        sentences = _sentences(until)
        for language, render in _tracks(agent).items():
            stem = playlist_name(agent.agent_id, agent.channel, language).removesuffix(".m3u8")
            names = [f"{stem}_{index:05d}.vtt" for index in range(total)]
            for index in range(first, total):
                cues = [
                    (agent.create_ts + s.start, agent.create_ts + s.end, s.speaker, text)
                    for s in sentences
                    if index * duration <= s.start < (index + 1) * duration
                    for text in [render(s)]
                    if text
                ]
                storage.write(prefix + names[index], format_slice(cues).encode(), SLICE_TYPE)
            lengths = [min(duration, max(0.0, until - index * duration)) for index in range(total)]
            playlist = format_playlist(zip(names, lengths, strict=True), duration, ended)
            storage.write(prefix + f"{stem}.m3u8", playlist.encode(), PLAYLIST_TYPE)


def _sentences(until: float) -> list[Sentence]:
    """The scripted sentences begun before `until` (seconds after the start), each from its first word."""
    result, begun = [], {}
    for event in itertools.takewhile(lambda event: event.at < until, conversation()):
        begun.setdefault(event.sentence_id, event.at)
        if event.is_final:
            result.append(Sentence(begun.pop(event.sentence_id), event.at, event.speaker, event))
    return result


def _tracks(agent: Agent) -> dict[str, Callable[[Sentence], str | None]]:
    """language -> what that track says of a sentence: the speaker's words, or their translation."""
    options = agent.options
    per_uid = options.get("uidLanguagesConfig")
    spoken = {speaker: speaker_language(speaker, agent.languages, per_uid) for speaker in SPEAKERS}
    tracks: dict[str, Callable[[Sentence], str | None]] = {}
    for language in dict.fromkeys([*agent.languages, *spoken.values()]):
        tracks[language] = lambda s, language=language: (
            s.event.text_in(language) if spoken[s.speaker] == language else None
        )
    for source in dict.fromkeys(spoken.values()):
        for target in translation_targets(source, options.get("translateConfig")):
            if target in tracks:  # also spoken: one playlist name cannot hold both (Agora's naming)
                continue
            tracks[target] = lambda s, source=source, target=target: (
                s.event.text_in(target) if spoken[s.speaker] == source else None
            )
    return tracks
