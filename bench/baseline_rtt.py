"""The baseline for bench/rtt: a bare Flask app making the same upstream calls as the service.

start: two bot tokens and POST /join; stop: POST /agents/{id}/leave. One module-level
requests.Session, no validation, no error model, no logging.
"""

import base64
import os
import secrets

import requests
from flask import Flask, request

from utils import access_token2

app = Flask(__name__)
APP_ID = os.environ["APP_ID"]
APP_CERTIFICATE = os.environ["APP_CERTIFICATE"]
BASE = f"{os.environ['AGORA_API_BASE_URL']}/api/speech-to-text/v1/projects/{APP_ID}"
CREDENTIAL = base64.b64encode(f"{os.environ['CUSTOMER_ID']}:{os.environ['CUSTOMER_SECRET']}".encode()).decode()
session = requests.Session()
session.headers["Authorization"] = "Basic " + CREDENTIAL


def bot(channel):
    uid = 4_000_000_000 + secrets.randbelow(294_967_295)
    rtc = access_token2.rtc_service(channel, uid, "publisher", 86400)
    token = access_token2.build(APP_ID, APP_CERTIFICATE, [rtc], 86400)
    return str(uid), token


@app.post("/api/rtt/start.json")
def start():
    channel = request.get_json()["channel"]
    (sub_uid, sub_token), (pub_uid, pub_token) = bot(channel), bot(channel)
    body = {
        "name": f"rtt-{secrets.token_hex(16)}",
        "languages": ["en-US"],
        "maxIdleTime": 60,
        "rtcConfig": {
            "channelName": channel,
            "subBotUid": sub_uid,
            "subBotToken": sub_token,
            "pubBotUid": pub_uid,
            "pubBotToken": pub_token,
        },
    }
    answer = session.post(f"{BASE}/join", json=body, timeout=30)
    answer.raise_for_status()
    return {"taskId": answer.json()["agent_id"]}


@app.post("/api/rtt/stop.json")
def stop():
    task_id = request.get_json()["taskId"]
    session.post(f"{BASE}/agents/{task_id}/leave", timeout=30).raise_for_status()
    return {"taskId": task_id}
