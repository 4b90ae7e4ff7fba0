"""Transcripts read from Agora-shaped caption files in a real S3-compatible server (moto)."""

import datetime
import html
import json
import logging
import time
import uuid

import boto3
import pytest
import srt
import webvtt

from api import create_app
from state import Task
from tests.agora_captions import CHANNEL, CREATE_TS, FRENCH, PREFIX, SPOKEN, TASK, cue, wall, write_agora_files
from tests.conftest import LIVE, RTT_BASE

ACCESS_KEY = "AKIATRANSCRIPTKEY01"
SECRET_KEY = "transcript-secret-key-0123456789"
NAMES = {1001: "Ana", 1002: "Ben"}


def storage_settings(endpoint, bucket, **extra):
    return {
        "CAPTION_STORAGE_VENDOR": "11",
        "CAPTION_STORAGE_REGION": "us-east-1",
        "CAPTION_STORAGE_BUCKET": bucket,
        "CAPTION_STORAGE_ACCESS_KEY": ACCESS_KEY,
        "CAPTION_STORAGE_SECRET_KEY": SECRET_KEY,
        "CAPTION_STORAGE_FILE_PREFIX": "captions/demo",
        "CAPTION_STORAGE_ENDPOINT": endpoint,
        **extra,
    }


@pytest.fixture(scope="module")
def s3(moto_s3):
    return boto3.client(
        "s3",
        endpoint_url=moto_s3.url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )


@pytest.fixture
def bucket(s3):
    name = f"captions-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def put_into(s3, bucket):
    return lambda key, text: s3.put_object(Bucket=bucket, Key=key, Body=text.encode())


@pytest.fixture(scope="module")
def seeded(s3):
    """One bucket with the Agora-shaped files, for the tests that only read them (moto is slow)."""
    name = f"captions-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    write_agora_files(put_into(s3, name))
    return name


def make_app(endpoint, bucket, **settings):
    return create_app(
        {"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, **storage_settings(endpoint, bucket), **settings}
    )


@pytest.fixture
def app(moto_s3, seeded):
    return make_app(moto_s3.url, seeded)


@pytest.fixture
def client(app):
    return app.test_client()


def record_task(app, client, *, ended_ago=None, records=True, task_id=TASK):
    """The task as start records it, with the names its speakers gave with their tokens."""
    store = app.extensions["state"]
    store.record_task(
        Task(task_id, CHANNEL, "RUNNING", CREATE_TS, languages=["en-US", "es-ES"], records_captions=records)
    )
    for uid, name in NAMES.items():
        answer = client.post("/api/tokens.json", json={"channel": CHANNEL, "uid": uid, "name": f"  {name} "})
        assert answer.status_code == 200 and answer.get_json()["name"] == name
    if ended_ago is not None:
        store.end_task(task_id, status="STOPPED", reason="stopped", at=time.time() - ended_ago)


@pytest.fixture
def ended(app, client):
    record_task(app, client, ended_ago=1000)


def named(cues):
    return [(start, end, NAMES[uid], text, language) for start, end, uid, text, language in cues]


@pytest.mark.usefixtures("ended")
def test_webvtt_is_what_was_said_in_time_order_with_names(client):
    answer = client.get(f"/api/rtt/transcripts/{TASK}.vtt")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/vtt; charset=utf-8"
    assert answer.headers["X-Transcript-State"] == "complete"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="transcript-{TASK}.vtt"'
    captions = webvtt.from_string(answer.get_data(as_text=True)).captions
    got = [
        (c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, c.voice, html.unescape(c.text))
        for c in captions
    ]
    assert got == [(start, end, name, text) for start, end, name, text, _ in named(SPOKEN)]


@pytest.mark.usefixtures("ended")
def test_srt_and_text_carry_the_same_cues(client):
    subtitles = list(srt.parse(client.get(f"/api/rtt/transcripts/{TASK}.srt").get_data(as_text=True)))
    assert [(s.index, s.start.total_seconds(), s.end.total_seconds(), s.content) for s in subtitles] == [
        (index, start, end, f"{name}: {text}") for index, (start, end, name, text, _) in enumerate(named(SPOKEN), 1)
    ]
    text = client.get(f"/api/rtt/transcripts/{TASK}.txt")
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert text.get_data(as_text=True) == (
        "[00:00:01] Ana: Hello & welcome.\n"
        "[00:00:03] Ben: Hola a todos.\n"
        "[00:00:06] Ana: Shall we start?\n"
        "[00:00:12] Ana: This came late.\n"
        "[00:00:14] Ben: ¿Empezamos?\n"
        "[00:00:21] Ana: Thanks, bye.\n"
    )


@pytest.mark.usefixtures("ended")
def test_json_has_every_cue_with_uid_name_and_language(client):
    body = json.loads(client.get(f"/api/rtt/transcripts/{TASK}.json").get_data(as_text=True))
    assert {key: body[key] for key in ("taskId", "channel", "language", "languages", "state", "createTs")} == {
        "taskId": TASK,
        "channel": CHANNEL,
        "language": None,
        "languages": ["en-US", "es-ES"],
        "state": "complete",
        "createTs": CREATE_TS,
    }
    assert body["cues"] == [
        {"start": start, "end": end, "uid": uid, "name": NAMES[uid], "text": text, "language": language}
        for start, end, uid, text, language in SPOKEN
    ]


@pytest.mark.usefixtures("ended")
def test_lang_picks_one_track_a_translation_included(client):
    french = client.get(f"/api/rtt/transcripts/{TASK}.json?lang=fr-FR").get_json()
    assert [(c["start"], c["end"], c["name"], c["text"], c["language"]) for c in french["cues"]] == named(FRENCH)
    spanish = client.get(f"/api/rtt/transcripts/{TASK}.txt?lang=es-ES").get_data(as_text=True)
    assert spanish == "[00:00:03] Ben: Hola a todos.\n[00:00:14] Ben: ¿Empezamos?\n"
    answer = client.get(f"/api/rtt/transcripts/{TASK}.vtt?lang=de-DE")
    assert answer.status_code == 404
    assert answer.get_json()["error"] == {
        "code": "no_transcript",
        "message": f"Task {TASK} has no transcript in de-DE; its languages: en-US, es-ES, fr-FR.",
        "field": "lang",
    }


def test_a_channels_transcripts_are_partial_while_the_agent_runs_then_complete(app, client, agora):
    record_task(app, client)
    agora.get(f"{RTT_BASE}/agents/{TASK}", json={"agent_id": TASK, "status": "RUNNING", "create_ts": CREATE_TS})
    running = client.get(f"/api/rtt/transcripts.json?channel={CHANNEL}").get_json()
    assert running == {
        "channel": CHANNEL,
        "tasks": [
            {
                "taskId": TASK,
                "status": "RUNNING",
                "createTs": CREATE_TS,
                "endedTs": None,
                "recordsCaptions": True,
                "languages": ["en-US", "es-ES"],
                "translations": ["fr-FR"],
                "transcript": "partial",
            }
        ],
    }
    store = app.extensions["state"]
    store.end_task(TASK, status="STOPPED", reason="stopped", at=time.time() - 10)  # within the grace period
    assert client.get(f"/api/rtt/transcripts.json?channel={CHANNEL}").get_json()["tasks"][0]["transcript"] == "partial"
    app.config["TRANSCRIPT_GRACE_SECONDS"] = 5
    listed = client.get(f"/api/rtt/transcripts.json?channel={CHANNEL}").get_json()["tasks"][0]
    assert (listed["status"], listed["transcript"]) == ("STOPPED", "complete")
    assert client.get(f"/api/rtt/transcripts/{TASK}.vtt").headers["X-Transcript-State"] == "complete"


def test_an_agent_that_stopped_on_its_own_is_learnt_from_agora(app, client, agora):
    record_task(app, client)
    app.config["TRANSCRIPT_GRACE_SECONDS"] = 0
    agora.get(f"{RTT_BASE}/agents/{TASK}", status=404, json={"detail": "gone", "reason": "TaskNotFound"})
    answer = client.get(f"/api/rtt/transcripts/{TASK}.json")
    assert answer.get_json()["state"] == "complete"
    assert app.extensions["state"].get_task(TASK).ended


def test_unknown_task_and_a_task_that_did_not_record(app, client):
    assert client.get("/api/rtt/transcripts/NOPE.vtt").get_json()["error"]["code"] == "task_not_found"
    assert client.get("/api/rtt/transcripts/NOPE.vtt").status_code == 404
    record_task(app, client, ended_ago=1000, records=False, task_id="PLAIN")
    answer = client.get("/api/rtt/transcripts/PLAIN.srt")
    assert answer.status_code == 404
    assert answer.get_json()["error"] == {
        "code": "no_transcript",
        "message": "Task PLAIN was started without recordCaptions, so Agora recorded no caption files for it.",
        "field": "taskId",
    }


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/rtt/transcripts/T1.pdf", 404, "not_found"),
        ("/api/rtt/transcripts/bad%20id.vtt", 400, "invalid_field"),
        (f"/api/rtt/transcripts/{TASK}.vtt?lang=en_US!", 400, "invalid_field"),
        ("/api/rtt/transcripts.json", 400, "invalid_field"),
        ("/api/rtt/transcripts.json?channel=a/b", 400, "invalid_field"),
        ("/api/rtt/speakers.json", 400, "invalid_field"),
    ],
)
def test_bad_requests_are_named(client, path, status, code):
    answer = client.get(path)
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, code)


def test_a_deleted_transcript_takes_its_files_and_names_only(moto_s3, s3, bucket):
    write_agora_files(put_into(s3, bucket))
    app = make_app(moto_s3.url, bucket)
    client = app.test_client()
    record_task(app, client)
    assert client.delete(f"/api/rtt/transcripts/{TASK}").get_json()["error"]["code"] == "task_running"
    app.extensions["state"].end_task(TASK, status="STOPPED", reason="stopped", at=time.time() - 1000)
    answer = client.delete(f"/api/rtt/transcripts/{TASK}")
    assert answer.get_json() == {"taskId": TASK, "deletedObjects": 11, "forgottenNames": 2}
    left = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert left == [f"{PREFIX}en-US_OTHER_{CHANNEL}.m3u8", f"{PREFIX}other.vtt"]
    assert app.extensions["state"].task_speakers(TASK) == {}
    gone = client.get(f"/api/rtt/transcripts/{TASK}.vtt")
    assert (gone.status_code, gone.get_json()["error"]["code"]) == (404, "no_transcript")


def test_a_long_transcript_streams_one_cue_at_a_time(moto_s3, s3, bucket):
    app = make_app(moto_s3.url, bucket)
    client = app.test_client()
    put = put_into(s3, bucket)
    slices = 40
    playlist = "#EXTM3U\n" + "".join(f"#EXTINF:60,\nen-US_{TASK}_{CHANNEL}_{n}.vtt\n" for n in range(slices))
    put(f"{PREFIX}en-US_{TASK}_{CHANNEL}.m3u8", playlist + "#EXT-X-ENDLIST\n")
    for n in range(slices):
        put(
            f"{PREFIX}en-US_{TASK}_{CHANNEL}_{n}.vtt",
            "WEBVTT\n\n" + cue(wall(n * 60 + 1), wall(n * 60 + 2), f"1001: Line {n}."),
        )
    record_task(app, client, ended_ago=1000)
    answer = client.get(f"/api/rtt/transcripts/{TASK}.srt", buffered=False)
    assert answer.is_streamed
    chunks = [chunk.decode() for chunk in answer.response]
    assert len(chunks) == slices
    last = datetime.timedelta(seconds=(slices - 1) * 60 + 1)
    second = datetime.timedelta(seconds=1)
    times = f"{srt.timedelta_to_srt_timestamp(last)} --> {srt.timedelta_to_srt_timestamp(last + second)}"
    assert chunks[-1] == f"{slices}\n{times}\nAna: Line {slices - 1}.\n\n"


def test_a_storage_failure_is_a_502_with_its_reason_and_no_key(tmp_path, caplog):
    from tests.servers import start_moto

    strict = start_moto(tmp_path, check_keys=True)  # refuses keys it does not know
    try:
        app = create_app(
            {"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, **storage_settings(strict.url, "nowhere")}
        )
        client = app.test_client()
        record_task(app, client, ended_ago=1000)
        with caplog.at_level(logging.DEBUG):
            answers = [
                client.get(f"/api/rtt/transcripts/{TASK}.vtt"),
                client.get(f"/api/rtt/transcripts.json?channel={CHANNEL}"),
            ]
    finally:
        strict.stop()
    for answer in answers:
        assert answer.status_code == 502
        error = answer.get_json()["error"]
        assert error["code"] == "storage_unavailable"
        assert (
            error["storageReason"]
            == "InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records."
        )
        assert "S3-compatible storage" in error["message"]
        assert ACCESS_KEY not in answer.get_data(as_text=True) and SECRET_KEY not in answer.get_data(as_text=True)
    assert ACCESS_KEY not in caplog.text and SECRET_KEY not in caplog.text


def test_azure_is_a_501_naming_it(client):
    app = create_app(
        {
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            **LIVE,
            "CAPTION_STORAGE_VENDOR": "5",
            "CAPTION_STORAGE_BUCKET": "container",
            "CAPTION_STORAGE_ACCESS_KEY": "account",
            "CAPTION_STORAGE_SECRET_KEY": "azure-secret-key",
        }
    )
    azure = app.test_client()
    record_task(app, azure, ended_ago=1000)
    answer = azure.get(f"/api/rtt/transcripts/{TASK}.vtt")
    assert answer.status_code == 501
    error = answer.get_json()["error"]
    assert error["code"] == "storage_not_supported"
    assert "Microsoft Azure Blob Storage (vendor 5)" in error["message"]
    assert "azure-secret-key" not in answer.get_data(as_text=True)


def test_the_routes_need_the_api_key_when_keys_are_set(moto_s3, bucket):
    app = create_app(
        {"TESTING": True, "RATELIMIT_ENABLED": False, **LIVE, "API_KEYS": "k1", **storage_settings(moto_s3.url, bucket)}
    )
    client = app.test_client()
    for method, path in [
        ("GET", f"/api/rtt/transcripts/{TASK}.vtt"),
        ("GET", f"/api/rtt/transcripts.json?channel={CHANNEL}"),
        ("DELETE", f"/api/rtt/transcripts/{TASK}"),
        ("GET", f"/api/rtt/speakers.json?channel={CHANNEL}"),
    ]:
        assert client.open(path, method=method).status_code == 401
        assert client.open(path, method=method, headers={"Authorization": "Bearer k1"}).status_code in (200, 404)
