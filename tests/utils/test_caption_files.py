"""Reading Agora's caption files leniently, where the reference leaves their form open."""

import pytest

from api.rtt.transcript import cue_offset
from utils.caption_files import Segment, SliceCue, parse_playlist, parse_slice, playlist_language

TASK, CHANNEL = "C662AB", "my room"


@pytest.mark.parametrize(
    ("key", "language"),
    [
        (f"a/b/en-US_{TASK}_{CHANNEL}.m3u8", "en-US"),
        (f"zh-CN-shandong_{TASK}_{CHANNEL}.m3u8", "zh-CN-shandong"),
        (f"{TASK}_{CHANNEL}.m3u8", ""),
        (f"backup/ar-SA_{TASK}_{CHANNEL}.m3u8", "ar-SA"),
        (f"en-US_{TASK}_{CHANNEL}_bak.m3u8", "en-US"),
        (f"en-US_{TASK}_{CHANNEL}.m3u8.bak", "en-US"),
        (f"en-US_{TASK}_{CHANNEL}_0.vtt", None),
        (f"en-US_OTHER_{CHANNEL}.m3u8", None),
        (f"backup_{TASK}_{CHANNEL}.m3u8", None),
    ],
)
def test_a_playlists_name_gives_its_language(key, language):
    assert playlist_language(key, TASK, CHANNEL) == language


def test_a_playlist_is_read_with_or_without_extinfs_comma():
    text = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.000,\nx_0.vtt\n"
        "#EXTINF:7\r\nsub/x_1.vtt\n#EXT-X-DISCONTINUITY\n#EXTINF:3.5,title\n../y.vtt\n"
    )
    playlist = parse_playlist(text, "captions/demo/x.m3u8")
    assert playlist.segments == [
        Segment("captions/demo/x_0.vtt", 10.0),
        Segment("captions/demo/sub/x_1.vtt", 7.0),
        Segment("captions/y.vtt", 3.5),
    ]
    assert playlist.ended is False
    assert parse_playlist(text + "#EXT-X-ENDLIST\n", "x.m3u8").ended is True


def test_both_speaker_labels_and_entities_are_read():
    data = (
        "\ufeffWEBVTT\r\n\r\n00:00:01.000 --> 00:00:02.500\r\n<v 941847>Fish &amp; chips</v>\r\n\r\n"
        "2\n00:00:03.000 --> 00:00:04.000 align:start\n941848: Two\nlines\n\n"
        "NOTE a comment\n\n00:00:05.000 --> 00:00:06.000\nNobody said who\n\n"
        "not a cue\n\n00:00:07.000 --> 00:00:08.000\n<v 12><b>Bold</b> &lt;3</v>\n"
    ).encode()
    assert parse_slice(data) == [
        SliceCue(1000, 2500, 941847, "Fish & chips"),
        SliceCue(3000, 4000, 941848, "Two\nlines"),
        SliceCue(5000, 6000, None, "Nobody said who"),
        SliceCue(7000, 8000, 12, "Bold <3"),
    ]
    assert parse_slice(b"00:00:01.000 --> 00:00:02.000\n1: headerless\n") == [SliceCue(1000, 2000, 1, "headerless")]
    assert parse_slice(b"garbage") == []


CREATE = 1_800_000_000  # 2027-01-15 08:00:00 UTC: 28800 s into its day


@pytest.mark.parametrize(
    ("seconds", "slice_offset", "expected"),
    [
        (CREATE + 12.5, 10, 12.5),  # unix seconds
        ((CREATE + 12.5) * 1000, 10, 12.5),  # unix milliseconds
        (12.5, 10, 12.5),  # from the task's start
        (2.5, 10, 12.5),  # from the slice's start
        (28_800 + 12.5, 10, 12.5),  # a time of day, UTC
        (CREATE - 3, 0, 0.0),  # a cue stamped just before the task's own start
    ],
)
def test_a_cue_time_becomes_seconds_from_the_tasks_start(seconds, slice_offset, expected):
    assert cue_offset(seconds, slice_offset, 10, CREATE) == pytest.approx(expected)
