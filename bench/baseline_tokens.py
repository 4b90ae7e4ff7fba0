"""The baseline for bench/tokens: a bare Flask app that only mints the same token.

No validation, no error model, no request id, no access log: the floor that the
service's own work is measured against.
"""

import os
import time

from agora_token_builder.RtcTokenBuilder import Role_Publisher, RtcTokenBuilder
from flask import Flask, request

app = Flask(__name__)
APP_ID = os.environ["APP_ID"]
APP_CERTIFICATE = os.environ["APP_CERTIFICATE"]


@app.post("/api/tokens.json")
def token():
    body = request.get_json()
    expires_at = int(time.time()) + body.get("expireTime", 3600)
    token = RtcTokenBuilder.buildTokenWithUid(
        APP_ID, APP_CERTIFICATE, body["channel"], body["uid"], Role_Publisher, expires_at
    )
    return {"token": token}
