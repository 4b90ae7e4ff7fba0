"""How a long transcript streams: time and peak Python memory against the call's length.

    .venv/bin/python bench/transcript_stream.py [--quick]

Writes Agora-shaped caption files (two spoken languages, 60 s slices, a cue every 4 s per
language) into a folder, then streams GET /api/rtt/transcripts/<taskId>.srt through the
Flask test client for calls of 1, 4 and 16 hours. Memory is tracemalloc's peak while the
body is consumed: it should stay flat as the call grows, since nothing is built at once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import create_app  # noqa: E402
from state import Task  # noqa: E402

TASK, CHANNEL, CREATE_TS = "BENCHTASK", "bench", 1_800_000_000
SLICE = 60
CUE_EVERY = 4


def stamp(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"


def write_call(root: Path, hours: int) -> None:
    folder = root / "captions"
    folder.mkdir(parents=True, exist_ok=True)
    slices = hours * 3600 // SLICE
    for language, uid, shift in (("en-US", 1001, 0.0), ("es-ES", 1002, 2.0)):
        names = [f"{language}_{TASK}_{CHANNEL}_{n}.vtt" for n in range(slices)]
        playlist = "#EXTM3U\n" + "".join(f"#EXTINF:{SLICE},\n{name}\n" for name in names) + "#EXT-X-ENDLIST\n"
        (folder / f"{language}_{TASK}_{CHANNEL}.m3u8").write_text(playlist)
        for n, name in enumerate(names):
            cues = [
                f"{stamp(CREATE_TS + t + shift)} --> {stamp(CREATE_TS + t + shift + 1.5)}\n<v {uid}>Said at {t} s.\n"
                for t in range(n * SLICE, (n + 1) * SLICE, CUE_EVERY)
            ]
            (folder / name).write_text("WEBVTT\n\n" + "\n".join(cues))


def measure(hours: int, runs: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_call(root / "bucket", hours)
        os.environ.pop("REDIS_URL", None)
        app = create_app(
            {
                "AGORA_MODE": "sandbox",
                "RATELIMIT_ENABLED": False,
                "STATE_DB": str(root / "state.sqlite3"),
                "SANDBOX_DB": str(root / "sandbox.sqlite3"),
                "CAPTION_BUCKET_DIR": str(root / "bucket"),
                "LOG_LEVEL": "WARNING",
            }
        )
        store = app.extensions["state"]
        store.record_task(
            Task(TASK, CHANNEL, "RUNNING", CREATE_TS, languages=["en-US", "es-ES"], records_captions=True)
        )
        store.end_task(TASK, status="STOPPED", reason="stopped", at=time.time() - 3600)
        client = app.test_client()
        seconds, size = [], 0
        for _ in range(runs):
            began = time.perf_counter()
            answer = client.get(f"/api/rtt/transcripts/{TASK}.srt", buffered=False)
            size = sum(len(chunk) for chunk in answer.response)
            seconds.append(time.perf_counter() - began)
        tracemalloc.start()  # a run of its own: tracing slows Python down several times
        answer = client.get(f"/api/rtt/transcripts/{TASK}.srt", buffered=False)
        for _chunk in answer.response:
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return statistics.median(seconds), peak / 2**20, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 2 hours, one run each (CI)")
    args = parser.parse_args()
    plan = ([1, 2], 1) if args.quick else ([1, 4, 16], 3)
    print(f"{'call':>6} {'cues':>7} {'body MB':>8} {'median s':>9} {'cues/s':>8} {'peak MB':>8}")
    for hours in plan[0]:
        median, peak, size = measure(hours, plan[1])
        cues = hours * 3600 // CUE_EVERY * 2
        print(f"{hours:>5}h {cues:>7} {size / 2**20:>8.1f} {median:>9.2f} {cues / median:>8.0f} {peak:>8.2f}")


if __name__ == "__main__":
    main()
