"""Agora's caption files: their names, the .m3u8 playlists and the WebVTT slices they list.

What is known and what is not is in docs/agora.md, "Caption storage". Where it is open,
both plausible forms are read: speaker labels `<v 1234>text` and `1234: text`, `#EXTINF`
with or without its trailing comma, playlist names with or without a language. The sandbox
writes its files with the same functions, so that what it writes is what this module reads.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from posixpath import dirname, join, normpath

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError
from webvtt.models import Timestamp

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SLICE_TYPE = "text/vtt"
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_EXTINF = re.compile(r"#EXTINF:\s*([0-9]+(?:\.[0-9]+)?)")
_COLON_LABEL = re.compile(r"([0-9]{1,10})\s*:\s*(.*)", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def folder(prefix: Sequence[str]) -> str:
    """fileNamePrefix's folders as a key prefix: ["captions", "demo"] -> "captions/demo/"."""
    return "".join(f"{name}/" for name in prefix if name)


def playlist_name(task_id: str, channel: str, language: str | None = None) -> str:
    """`[<lang>_]<taskId>_<channel>.m3u8`, as the 5.x/6.x examples name them (7.x unconfirmed)."""
    return f"{language}_{task_id}_{channel}.m3u8" if language else f"{task_id}_{channel}.m3u8"


def playlist_language(key: str, task_id: str, channel: str) -> str | None:
    """For a key that is one of the task's playlists: its language, or "" for one named without.

    None for any other key. A copy (Agora's backup path may upload one, under a name nobody
    documents) is accepted when its name still holds `<taskId>_<channel>` and `.m3u8`.
    """
    name = key.rsplit("/", 1)[-1]
    stem = f"{task_id}_{channel}"
    at = name.find(stem)
    if at < 0 or ".m3u8" not in name[at + len(stem) :]:
        return None
    if at == 0:
        return ""
    language = name[: at - 1] if name[at - 1] == "_" else None
    return language if language is not None and _LANGUAGE.fullmatch(language) else None


@dataclass(frozen=True)
class Segment:
    key: str  # the slice's object key, resolved against the playlist's folder
    duration: float  # #EXTINF, seconds


@dataclass(frozen=True)
class Playlist:
    segments: list[Segment]
    ended: bool  # #EXT-X-ENDLIST: Agora has written its last slice


def parse_playlist(text: str, playlist_key: str) -> Playlist:
    """Segments in playlist order; unknown tags are skipped, as HLS clients do."""
    base = dirname(playlist_key)
    segments: list[Segment] = []
    duration = 0.0
    ended = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            match = _EXTINF.match(line)
            if match:
                duration = float(match.group(1))
            elif line.startswith("#EXT-X-ENDLIST"):
                ended = True
            continue
        segments.append(Segment(_resolve(base, line), duration))
        duration = 0.0
    return Playlist(segments, ended)


def _resolve(base: str, uri: str) -> str:
    """A segment URI as a key: relative to the playlist's folder; a full URL keeps only its path's file."""
    if "://" in uri:
        uri = uri.split("?", 1)[0].rsplit("/", 1)[-1]
    if uri.startswith("/"):
        return normpath(uri.lstrip("/"))
    return normpath(join(base, uri)) if base else normpath(uri)


@dataclass(frozen=True)
class SliceCue:
    start_ms: int  # as written: absolute wall-clock or relative (the transcript decides)
    end_ms: int
    uid: int | None  # the speaker, when the cue names one
    text: str


def parse_slice(data: bytes) -> list[SliceCue]:
    """A WebVTT slice's cues, with the speaker label taken off the text. Malformed cues are skipped."""
    text = data.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    if not text.lstrip().startswith("WEBVTT"):
        text = "WEBVTT\n\n" + text  # a slice without its header still holds cues
    try:
        captions = webvtt.from_string(text.lstrip()).captions
    except (MalformedFileError, MalformedCaptionError):
        return []
    cues = []
    for caption in captions:
        uid, words = _speaker_and_text(caption.raw_text, caption.voice)
        if words:
            cues.append(SliceCue(caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds(), uid, words))
    return cues


def _speaker_and_text(raw: str, voice: str | None) -> tuple[int | None, str]:
    words = html.unescape(_TAG.sub("", raw)).strip()
    label = (voice or "").strip()
    if label.isdecimal():
        return int(label), words
    match = _COLON_LABEL.fullmatch(words)
    if match:
        return int(match.group(1)), match.group(2).strip()
    return None, words


def format_slice(cues: Iterable[tuple[float, float, int, str]]) -> str:
    """(start s, end s, uid, text) as a WebVTT slice, each cue labelled `<v uid>`."""
    captions = [
        webvtt.Caption(str(Timestamp.from_seconds(start)), str(Timestamp.from_seconds(end)), f"<v {uid}>{escape(text)}")
        for start, end, uid, text in cues
    ]
    return webvtt.WebVTT(captions=captions).content if captions else "WEBVTT\n"


def format_playlist(segments: Iterable[tuple[str, float]], target_duration: int, ended: bool) -> str:
    """An HLS playlist shaped like Cloud Recording's (the analogy the reference draws)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-MEDIA-SEQUENCE:0", f"#EXT-X-TARGETDURATION:{target_duration}"]
    for name, duration in segments:
        lines += [f"#EXTINF:{duration:.3f},", name]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def escape(text: str) -> str:
    """Text for a WebVTT cue or voice label: &, < and > are its markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
