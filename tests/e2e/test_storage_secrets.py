"""Caption storage keys, set on the server, never reach a response or a log line: also when Agora
fails the start by quoting the whole join body back (the sandbox's "echo" fault)."""

import pytest
import requests

from tests.servers import start_gunicorn

pytestmark = pytest.mark.e2e

ACCESS_KEY = "AKIA-e2e-Zr81kQ"
SECRET_KEY = "sk-e2e-Wm52pX9vLt"
STORAGE = {
    "CAPTION_STORAGE_VENDOR": "11",
    "CAPTION_STORAGE_REGION": "eu-west-1",
    "CAPTION_STORAGE_BUCKET": "captions",
    "CAPTION_STORAGE_ACCESS_KEY": ACCESS_KEY,
    "CAPTION_STORAGE_SECRET_KEY": SECRET_KEY,
    "CAPTION_STORAGE_ENDPOINT": "https://minio.example.com",
    "LOG_LEVEL": "DEBUG",
    "RATELIMIT_ENABLED": "false",
}


def test_storage_keys_stay_out_of_responses_and_logs(tmp_path):
    server = start_gunicorn(tmp_path, env=STORAGE, workers=2)
    seen = []
    try:
        fault = {"op": "join", "status": 400, "echo": "captionConfig"}
        assert requests.post(f"{server.url}/sandbox/faults", json=fault, timeout=10).status_code == 201
        failed = requests.post(
            f"{server.url}/api/rtt/start.json", json={"channel": "vault", "recordCaptions": True}, timeout=10
        )
        seen.append(failed)
        assert failed.status_code == 502
        reason = failed.json()["error"]["agoraReason"]
        assert "body schema check fail" in reason and "[redacted]" in reason

        started = requests.post(
            f"{server.url}/api/rtt/start.json", json={"channel": "vault", "recordCaptions": True}, timeout=10
        )
        seen.append(started)
        assert started.status_code == 200
        task = requests.get(f"{server.url}/sandbox/tasks/{started.json()['taskId']}", timeout=10)
        seen.append(task)
        assert task.json()["options"]["captionConfig"]["bucket"] == "captions"  # recording is on
        seen.append(requests.get(f"{server.url}/api/openapi.json", timeout=10))
    finally:
        assert server.stop() == 0
    log = server.log()
    for secret in (ACCESS_KEY, SECRET_KEY):
        for response in seen:
            assert secret not in response.text and secret not in str(response.headers)
        assert secret not in log
