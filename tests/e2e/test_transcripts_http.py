"""Names and transcripts over real HTTP: gunicorn with 2 workers, the sandbox recording into moto's S3."""

import time
import uuid

import boto3
import pytest
import requests
import webvtt

from tests.servers import start_gunicorn

pytestmark = pytest.mark.e2e

ACCESS_KEY = "AKIAE2ETRANSCRIPTS"
SECRET_KEY = "e2e-transcripts-secret-key"


@pytest.fixture(scope="module")
def recording(tmp_path_factory, moto_s3):
    bucket = f"e2e-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_s3.url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=bucket)
    server = start_gunicorn(
        tmp_path_factory.mktemp("transcripts"),
        env={
            "RATELIMIT_ENABLED": "false",
            "TRANSCRIPT_GRACE_SECONDS": "0",
            "CAPTION_STORAGE_VENDOR": "11",
            "CAPTION_STORAGE_BUCKET": bucket,
            "CAPTION_STORAGE_ACCESS_KEY": ACCESS_KEY,
            "CAPTION_STORAGE_SECRET_KEY": SECRET_KEY,
            "CAPTION_STORAGE_FILE_PREFIX": "calls",
            "CAPTION_STORAGE_SLICE_DURATION": "5",
            "CAPTION_STORAGE_ENDPOINT": moto_s3.url,
        },
        workers=2,  # enough to cross workers; each one more is seconds of boot on a busy machine
    )
    yield server, s3, bucket
    assert server.stop() == 0, server.log()


def test_a_name_given_on_one_worker_is_known_on_every_worker(recording):
    server, _s3, _bucket = recording
    channel = f"w-{uuid.uuid4().hex[:8]}"
    given = requests.post(
        f"{server.url}/api/tokens.json", json={"channel": channel, "uid": 1001, "name": "Ana"}, timeout=10
    )
    assert given.json()["name"] == "Ana"
    answers = set()
    request_ids = set()
    for _ in range(12):  # a new connection each time: gunicorn hands them to different workers
        answer = requests.get(f"{server.url}/api/rtt/speakers.json", params={"channel": channel}, timeout=10)
        answers.add(answer.text)
        request_ids.add(answer.headers["X-Request-ID"])
    assert answers == {'{"1001":"Ana"}'}
    assert len(set(server.pids_by_request_id(request_ids).values())) >= 2


def test_a_recorded_task_reads_back_from_s3_with_names_then_is_forgotten(recording):
    server, s3, bucket = recording
    channel = f"r-{uuid.uuid4().hex[:8]}"
    for uid, name in ((1001, "Ana"), (1002, "Ben")):
        requests.post(f"{server.url}/api/tokens.json", json={"channel": channel, "uid": uid, "name": name}, timeout=10)
    start = requests.post(
        f"{server.url}/api/rtt/start.json",
        json={"channel": channel, "recordCaptions": True, "languages": ["en-US", "es-ES"]},
        timeout=10,
    ).json()
    task_id = start["taskId"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the agent reports RUNNING after a second: its first sentence is said
        status = requests.post(f"{server.url}/api/rtt/query.json", json={"taskId": task_id}, timeout=10).json()
        if status["status"] == "RUNNING":
            break
        time.sleep(0.2)
    listed = requests.get(f"{server.url}/api/rtt/transcripts.json", params={"channel": channel}, timeout=10).json()
    assert listed["tasks"][0]["transcript"] == "partial"
    requests.post(f"{server.url}/api/rtt/stop.json", json={"taskId": task_id}, timeout=10).raise_for_status()

    answer = requests.get(f"{server.url}/api/rtt/transcripts/{task_id}.vtt", timeout=10)
    assert answer.status_code == 200 and answer.headers["X-Transcript-State"] == "complete"
    first = webvtt.from_string(answer.text).captions[0]
    assert (first.voice, first.text) == ("Ana", "Hi everyone, thanks for joining the call.")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="calls/")["Contents"]]
    assert f"calls/en-US_{task_id}_{channel}.m3u8" in keys and f"calls/es-ES_{task_id}_{channel}.m3u8" in keys

    deleted = requests.delete(f"{server.url}/api/rtt/transcripts/{task_id}", timeout=10).json()
    assert deleted == {"taskId": task_id, "deletedObjects": len([k for k in keys if task_id in k]), "forgottenNames": 2}
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=f"calls/en-US_{task_id}")
    log = server.log()
    assert SECRET_KEY not in log and ACCESS_KEY not in log
    assert SECRET_KEY not in answer.text and SECRET_KEY not in str(listed)
