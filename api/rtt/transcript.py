"""A task's transcript, built from the caption files Agora left in the bucket.

Read in playlist order, one slice at a time, so that a transcript of many hours streams in
bounded memory: tracks are merged lazily (heapq.merge), each slice is read when its turn
comes. The file syntax is the libraries' (webvtt-py, srt; utils/caption_files.py): this
module only maps playlists to tracks, cue times to offsets from the task's start, uids to
names, and writes the four formats.
"""

from __future__ import annotations

import heapq
import json
import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import srt
import webvtt
from webvtt.models import Timestamp
from webvtt.vtt import WebVTTCueBlock

from state import Task
from utils.caption_files import escape, parse_playlist, parse_slice, playlist_language
from utils.caption_storage import CaptionStorage, StorageError

logger = logging.getLogger("api.transcripts")

FORMATS = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
}
# A cue time past this is a unix time (seconds), not an offset: Agora stamps RTT cues with the
# wall clock (docs/agora.md), while Cloud Recording's start at 0. Either is read.
UNIX_SECONDS = 1e9
UNIX_MILLISECONDS = 1e12
DAY = 86_400
# Backup copies can repeat a slice: a cue seen among the last few is not written twice.
DEDUPLICATION_WINDOW = 2000


@dataclass
class Track:
    language: str  # its code; "" for a playlist named without one
    spoken: bool  # what was said (else a translation)
    playlists: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cue:
    start: float  # seconds from the task's start
    end: float
    uid: int | None
    name: str | None
    text: str
    language: str | None

    @property
    def speaker(self) -> str | None:
        """Who said it, for people: the name, else the uid."""
        return self.name or (str(self.uid) if self.uid is not None else None)


def find_tracks(keys: Iterable[str], task: Task) -> list[Track]:
    """The task's playlists among `keys`, grouped by language (copies of one playlist together).

    Spoken tracks are the languages the task was started with; any other language is a
    translation target. A playlist named without a language counts as what was said only when
    no spoken language has its own: beside them it would say the same things twice.
    """
    by_language: dict[str, Track] = {}
    for key in sorted(keys):
        language = playlist_language(key, task.task_id, task.channel)
        if language is None:
            continue
        spoken = language == "" or not task.languages or language in task.languages
        by_language.setdefault(language, Track(language, spoken)).playlists.append(key)
    tracks = sorted(by_language.values(), key=lambda track: (not track.spoken, track.language))
    if any(track.spoken and track.language for track in tracks):
        tracks = [track for track in tracks if track.language]
    elif "" in by_language and len(task.languages) == 1:
        by_language[""].language = task.languages[0]  # the one language it can be
    return tracks


def cues_of_track(
    storage: CaptionStorage, track: Track, task: Task, names: Mapping[int, str]
) -> tuple[Iterator[Cue], bool, int]:
    """The track's cues (lazily), whether its playlist is ended, and how many slices it lists.

    The playlists are read now, so that a storage failure is known before anything is sent.
    Copies of a playlist (a backup path's) are read each on its own, since a relative cue time
    counts from its own playlist's slices, then merged in time order without repeats.
    """
    streams = []
    ended = False
    count = 0
    for key in track.playlists:
        data = storage.read(key)
        if data is None:
            continue
        playlist = parse_playlist(data.decode("utf-8", errors="replace"), key)
        streams.append(_playlist_cues(storage, playlist.segments, track, task, names))
        ended = ended or playlist.ended
        count = max(count, len(playlist.segments))
    return _without_repeats(merged(streams)), ended, count


def _playlist_cues(storage: CaptionStorage, segments, track: Track, task: Task, names: Mapping[int, str]):
    offset = 0.0
    for segment in segments:
        try:
            data = storage.read(segment.key)
        except StorageError as exc:
            logger.warning("caption slice %s unreadable: %s", segment.key, exc.reason)
            data = None
        if data is None:  # listed, not uploaded yet (or lost): its time still passes
            offset += segment.duration
            continue
        cues = []
        for cue in parse_slice(data):
            start = cue_offset(cue.start_ms / 1000, offset, segment.duration, task.create_ts)
            end = max(start, start + (cue.end_ms - cue.start_ms) / 1000)
            name = names.get(cue.uid) if cue.uid is not None else None
            cues.append(Cue(round(start, 3), round(end, 3), cue.uid, name, cue.text, track.language or None))
        yield from sorted(cues, key=lambda cue: (cue.start, cue.end))
        offset += segment.duration


def _without_repeats(cues: Iterator[Cue]) -> Iterator[Cue]:
    """A cue that a copy repeats (same time, speaker and words) is written once."""
    recent: OrderedDict[tuple, None] = OrderedDict()
    for cue in cues:
        seen = (round(cue.start, 1), cue.uid, cue.text)
        if seen in recent:
            continue
        recent[seen] = None
        if len(recent) > DEDUPLICATION_WINDOW:
            recent.popitem(last=False)
        yield cue


def cue_offset(seconds: float, slice_offset: float, slice_duration: float, create_ts: float) -> float:
    """A cue time as seconds from the task's start, whichever way the slice wrote it.

    Unix time (s or ms): minus the task's start. Else an offset from the task's start (it lies
    within its slice's span), from the slice's start (within its own length), or, failing both,
    a time of day (UTC) counted from the task's.
    """
    if seconds >= UNIX_MILLISECONDS:
        seconds /= 1000
    if seconds >= UNIX_SECONDS:
        return max(0.0, seconds - create_ts)
    slack = max(2.0, slice_duration * 0.1)
    if slice_offset - slack <= seconds <= slice_offset + slice_duration + slack:
        return max(0.0, seconds)
    if -slack <= seconds <= slice_duration + slack:
        return slice_offset + max(0.0, seconds)
    since = (seconds - create_ts % DAY) % DAY
    if since <= slice_offset + slice_duration + slack:
        return since
    return max(0.0, seconds)


def merged(tracks: list[Iterator[Cue]]) -> Iterator[Cue]:
    """Several tracks' cues in time order, lazily."""
    return heapq.merge(*tracks, key=lambda cue: (cue.start, cue.end))


# -- the formats --------------------------------------------------------------------------------


def write_vtt(cues: Iterable[Cue]) -> Iterator[str]:
    yield "WEBVTT\n"
    for cue in cues:
        voice = f"<v {escape(cue.speaker)}>" if cue.speaker else ""
        caption = webvtt.Caption(_vtt_time(cue.start), _vtt_time(cue.end), voice + escape(cue.text))
        yield "\n".join(WebVTTCueBlock.format_lines(caption)) + "\n"


def write_srt(cues: Iterable[Cue]) -> Iterator[str]:
    for index, cue in enumerate(cues, start=1):
        text = f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text
        yield srt.Subtitle(index, timedelta(seconds=cue.start), timedelta(seconds=cue.end), text).to_srt()


def write_txt(cues: Iterable[Cue]) -> Iterator[str]:
    for cue in cues:
        minutes, seconds = divmod(int(cue.start), 60)
        hours, minutes = divmod(minutes, 60)
        yield f"[{hours:02d}:{minutes:02d}:{seconds:02d}] {cue.speaker or 'Unknown speaker'}: {cue.text}\n"


def write_json(head: Mapping[str, object], cues: Iterable[Cue]) -> Iterator[str]:
    """{...head, "cues": [{start, end, uid, name, text, language}]}, one cue at a time."""
    yield json.dumps(dict(head), separators=(",", ":"))[:-1] + ',"cues":['
    for index, cue in enumerate(cues):
        item = {
            "start": cue.start,
            "end": cue.end,
            "uid": cue.uid,
            "name": cue.name,
            "text": cue.text,
            "language": cue.language,
        }
        yield ("," if index else "") + json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    yield "]}"


def _vtt_time(seconds: float) -> str:
    return str(Timestamp.from_seconds(round(seconds, 3)))
