"""Caption files shaped as Agora leaves them in a bucket (docs/agora.md, "Caption storage"),
written by hand here, not by the service's writer, with every form the reference leaves open."""

from __future__ import annotations

from collections.abc import Callable

TASK = "AGENT0001"
CHANNEL = "room 1"
CREATE_TS = 1_800_000_000
PREFIX = "captions/demo/"


def vtt_time(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"


def cue(start: float, end: float, text: str) -> str:
    return f"{vtt_time(start)} --> {vtt_time(end)}\n{text}\n"


def wall(seconds: float) -> float:
    """A wall-clock cue time (what RTT writes), `seconds` after the task's start."""
    return CREATE_TS + seconds


def write_agora_files(put: Callable[[str, str], None]) -> None:
    """Two spoken languages and a translation, a missing slice, both label forms, a backup copy."""
    en = f"{PREFIX}en-US_{TASK}_{CHANNEL}"
    # en-US: #EXTINF with a comma, wall-clock times; slice 1 is listed and never uploaded here.
    put(
        f"{en}.m3u8",
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:10\n"
        f"#EXTINF:10.000,\nen-US_{TASK}_{CHANNEL}_0.vtt\n#EXTINF:10.000,\nen-US_{TASK}_{CHANNEL}_1.vtt\n"
        f"#EXTINF:10.000,\nen-US_{TASK}_{CHANNEL}_2.vtt\n#EXT-X-ENDLIST\n",
    )
    put(
        f"{en}_0.vtt",
        "WEBVTT\n\n"
        + cue(wall(1.0), wall(2.5), "<v 1001>Hello &amp; welcome.</v>")
        + "\n"
        + cue(wall(6.0), wall(8.0), "<v 1001>Shall we start?"),
    )
    put(f"{en}_2.vtt", "WEBVTT\n\n1\n" + cue(wall(21.0), wall(23.0), "1001: Thanks, bye."))
    # The backup path: a copy of the playlist in another folder, with the slice the first lacks,
    # and one it shares (its cues must not appear twice).
    put(
        f"{PREFIX}backup/en-US_{TASK}_{CHANNEL}.m3u8",
        f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10\nen-US_{TASK}_{CHANNEL}_1.vtt\n"
        f"#EXTINF:10\n../en-US_{TASK}_{CHANNEL}_2.vtt\n",
    )
    put(
        f"{PREFIX}backup/en-US_{TASK}_{CHANNEL}_1.vtt",
        "WEBVTT\n\n" + cue(wall(12.0), wall(13.0), "<v 1001>This came late."),
    )
    # es-ES: #EXTINF without a comma, relative times (from the task, then from the slice), "uid:" labels.
    es = f"{PREFIX}es-ES_{TASK}_{CHANNEL}"
    put(
        f"{es}.m3u8",
        f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10\nes-ES_{TASK}_{CHANNEL}_0.vtt\n"
        f"#EXTINF:10\nes-ES_{TASK}_{CHANNEL}_1.vtt\n#EXT-X-ENDLIST\n",
    )
    put(f"{es}_0.vtt", "WEBVTT\n\n" + cue(3.0, 5.0, "1002: Hola a todos."))
    put(f"{es}_1.vtt", "WEBVTT\n\n" + cue(4.0, 6.0, "1002: ¿Empezamos?"))
    # fr-FR: a translation target of en-US.
    fr = f"{PREFIX}fr-FR_{TASK}_{CHANNEL}"
    put(
        f"{fr}.m3u8",
        f"#EXTM3U\n#EXT-X-TARGETDURATION:30\n#EXTINF:30.0,\nfr-FR_{TASK}_{CHANNEL}_0.vtt\n#EXT-X-ENDLIST\n",
    )
    put(
        f"{fr}_0.vtt",
        "WEBVTT\n\n"
        + cue(wall(1.0), wall(2.5), "<v 1001>Bonjour et bienvenue.")
        + "\n"
        + cue(wall(6.0), wall(8.0), "<v 1001>On commence ?"),
    )
    # A playlist named without a language (the 5.x examples have one beside the others): here it
    # would repeat en-US's words, and must not count twice.
    put(f"{PREFIX}{TASK}_{CHANNEL}.m3u8", f"#EXTM3U\n#EXTINF:10,\nen-US_{TASK}_{CHANNEL}_0.vtt\n#EXT-X-ENDLIST\n")
    # Another task's files in the same folder.
    put(f"{PREFIX}en-US_OTHER_{CHANNEL}.m3u8", "#EXTM3U\n#EXTINF:10,\nother.vtt\n")
    put(f"{PREFIX}other.vtt", "WEBVTT\n\n" + cue(wall(1.0), wall(2.0), "<v 1001>Not this task."))


# What was said, merged in time order: (start, end, uid, text, language).
SPOKEN = [
    (1.0, 2.5, 1001, "Hello & welcome.", "en-US"),
    (3.0, 5.0, 1002, "Hola a todos.", "es-ES"),
    (6.0, 8.0, 1001, "Shall we start?", "en-US"),
    (12.0, 13.0, 1001, "This came late.", "en-US"),
    (14.0, 16.0, 1002, "¿Empezamos?", "es-ES"),
    (21.0, 23.0, 1001, "Thanks, bye.", "en-US"),
]
FRENCH = [
    (1.0, 2.5, 1001, "Bonjour et bienvenue.", "fr-FR"),
    (6.0, 8.0, 1001, "On commence ?", "fr-FR"),
]
