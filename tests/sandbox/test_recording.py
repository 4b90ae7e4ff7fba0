"""The sandbox records what a recording agent says: real WebVTT slices and playlists, read back
by the transcript API, in its own folder by default or in an S3-compatible server."""

import uuid

import boto3
import pytest
import webvtt

from api import create_app
from tests.clock import FakeClock

START = {
    "channel": "demo",
    "languages": ["en-US", "es-ES"],
    "recordCaptions": True,
    "translate": {"languages": [{"source": "en-US", "target": ["fr-FR"]}]},
}


def sandbox(tmp_path, **settings):
    app = create_app(
        {
            "TESTING": True,
            "AGORA_MODE": "sandbox",
            "RATELIMIT_ENABLED": False,
            "SANDBOX_DB": str(tmp_path / "sandbox.sqlite3"),
            "CAPTION_BUCKET_DIR": str(tmp_path / "bucket"),
            "TRANSCRIPT_GRACE_SECONDS": 0,
            **settings,
        }
    )
    clock = FakeClock(1_800_000_000.0)
    app.extensions["sandbox_store"].clock = clock  # the emulator's time: slices complete as it moves
    return app, app.test_client(), clock


def start(client):
    client.post("/api/tokens.json", json={"channel": "demo", "uid": 1001, "name": "Ana"})
    answer = client.post("/api/rtt/start.json", json=START)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["taskId"]


def test_with_zero_configuration_the_files_land_in_the_instance_bucket(tmp_path):
    app, client, clock = sandbox(tmp_path)
    task_id = start(client)
    clock.advance(25)  # two slices of 10 s are complete, the third is not
    running = client.get(f"/api/rtt/transcripts/{task_id}.json").get_json()
    assert running["state"] == "partial"
    assert {cue["start"] < 20 for cue in running["cues"]} == {True}
    assert running["cues"][0] == {
        "start": 0.3,
        "end": 1.05,
        "uid": 1001,
        "name": "Ana",
        "text": "Hi everyone, thanks for joining the call.",
        "language": "en-US",
    }
    assert running["cues"][1]["uid"] == 1002 and running["cues"][1]["language"] == "es-ES"
    assert running["cues"][1]["text"] == "Encantada de estar aquí. ¿Todos ven los subtítulos?"

    clock.advance(10)
    assert client.post("/api/rtt/stop.json", json={"taskId": task_id}).status_code == 200
    folder = tmp_path / "bucket" / "captions"
    assert sorted(path.name for path in folder.glob("*.m3u8")) == [
        f"{lang}_{task_id}_demo.m3u8" for lang in ("en-US", "es-ES", "fr-FR")
    ]
    playlist = (folder / f"en-US_{task_id}_demo.m3u8").read_text()
    assert playlist.count("#EXTINF:") == 4 and playlist.rstrip().endswith("#EXT-X-ENDLIST")
    assert "#EXTINF:5.000," in playlist  # the last slice ends when the agent left
    first = webvtt.read(str(folder / f"en-US_{task_id}_demo_00000.vtt")).captions[0]
    assert (first.voice, first.text) == ("1001", "Hi everyone, thanks for joining the call.")
    assert first.start_time.in_milliseconds() == 1_800_000_000_300  # wall-clock time, as RTT stamps cues

    listed = client.get("/api/rtt/transcripts.json?channel=demo").get_json()["tasks"][0]
    assert (listed["transcript"], listed["languages"], listed["translations"]) == (
        "complete",
        ["en-US", "es-ES"],
        ["fr-FR"],
    )
    whole = client.get(f"/api/rtt/transcripts/{task_id}.json").get_json()
    assert whole["state"] == "complete"
    assert whole["cues"][-1]["start"] < 35 and len(whole["cues"]) > len(running["cues"])
    assert [c["start"] for c in whole["cues"]] == sorted(c["start"] for c in whole["cues"])
    french = client.get(f"/api/rtt/transcripts/{task_id}.txt?lang=fr-FR").get_data(as_text=True)
    assert french.splitlines()[0] == "[00:00:00] Ana: Bonjour à tous, merci d'avoir rejoint l'appel."


def test_a_task_without_record_captions_writes_nothing(tmp_path):
    app, client, clock = sandbox(tmp_path)
    task_id = client.post("/api/rtt/start.json", json={"channel": "demo"}).get_json()["taskId"]
    clock.advance(30)
    client.post("/api/rtt/stop.json", json={"taskId": task_id})
    assert not (tmp_path / "bucket").exists()
    assert client.get(f"/api/rtt/transcripts/{task_id}.vtt").get_json()["error"]["code"] == "no_transcript"


def test_the_sandbox_writes_into_the_s3_compatible_server_the_settings_name(tmp_path, moto_s3):
    bucket = f"sandbox-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_s3.url,
        aws_access_key_id="AKIASANDBOXKEY",
        aws_secret_access_key="sandbox-secret",
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=bucket)
    app, client, clock = sandbox(
        tmp_path,
        CAPTION_STORAGE_VENDOR="11",
        CAPTION_STORAGE_BUCKET=bucket,
        CAPTION_STORAGE_ACCESS_KEY="AKIASANDBOXKEY",
        CAPTION_STORAGE_SECRET_KEY="sandbox-secret",
        CAPTION_STORAGE_FILE_PREFIX="rtt/sandbox",
        CAPTION_STORAGE_SLICE_DURATION="5",
        CAPTION_STORAGE_ENDPOINT=moto_s3.url,
    )
    task_id = start(client)
    clock.advance(12)
    client.post("/api/rtt/stop.json", json={"taskId": task_id})
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert f"rtt/sandbox/en-US_{task_id}_demo.m3u8" in keys
    assert f"rtt/sandbox/en-US_{task_id}_demo_00002.vtt" in keys  # 12 s in slices of 5 s: three
    assert len(keys) == 3 * (1 + 3)
    vtt = client.get(f"/api/rtt/transcripts/{task_id}.vtt").get_data(as_text=True)
    assert vtt.startswith("WEBVTT\n\n00:00:00.300 --> 00:00:01.050\n<v Ana>Hi everyone, thanks for joining the call.\n")
    assert not (tmp_path / "bucket").exists()


@pytest.mark.parametrize("body", [{"channel": "demo", "recordCaptions": True}])
def test_two_flushes_never_write_a_slice_twice(tmp_path, body):
    app, client, clock = sandbox(tmp_path)
    task_id = client.post("/api/rtt/start.json", json=body).get_json()["taskId"]
    recorder = app.extensions["sandbox_recorder"]
    agent = app.extensions["sandbox_store"].get_agent(app.config["APP_ID"], task_id)
    clock.advance(21)
    assert recorder.flush(agent, clock()) == 2
    assert recorder.flush(agent, clock()) == 0


def test_a_failing_bucket_does_not_fail_agoras_api_and_is_tried_again(tmp_path):
    app, client, clock = sandbox(tmp_path)
    task_id = client.post("/api/rtt/start.json", json={"channel": "demo", "recordCaptions": True}).get_json()["taskId"]
    (tmp_path / "bucket").write_text("a file where the folder should be")
    clock.advance(21)
    assert client.post("/api/rtt/query.json", json={"taskId": task_id}).status_code == 200
    (tmp_path / "bucket").unlink()
    recorder = app.extensions["sandbox_recorder"]
    agent = app.extensions["sandbox_store"].get_agent(app.config["APP_ID"], task_id)
    assert recorder.flush(agent, clock()) == 2  # the slices the failure left unwritten
