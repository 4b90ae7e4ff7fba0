"""GET /healthz: liveness, and which Agora this instance talks to."""

from __future__ import annotations

from flask import Blueprint, current_app

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def get() -> dict[str, str]:
    return {"status": "ok", "mode": current_app.config["AGORA_MODE"], "rtt": "7.x"}
