"""The baseline for bench/tokens: a bare Flask app that only mints the same token (007, the default).

No validation, no error model, no request id, no access log: the floor that the
service's own work is measured against.
"""

import os

from flask import Flask, request

from utils import access_token2

app = Flask(__name__)
APP_ID = os.environ["APP_ID"]
APP_CERTIFICATE = os.environ["APP_CERTIFICATE"]


@app.post("/api/tokens.json")
def token():
    body = request.get_json()
    seconds = body.get("expireTime", 3600)
    rtc = access_token2.rtc_service(body["channel"], body["uid"], "publisher", seconds)
    token = access_token2.build(APP_ID, APP_CERTIFICATE, [rtc], seconds)
    return {"token": token}
