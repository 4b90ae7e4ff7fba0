"""The Real-Time Transcription routes (the guide's src/pages/api/transcription/*.json.ts)."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app


def rtt_url(path: str) -> str:
    """A URL of Agora's RTT 7.x API for this project, e.g. rtt_url("/join")."""
    config = current_app.config
    return f"{config['AGORA_API_BASE_URL']}/api/speech-to-text/v1/projects/{config['APP_ID']}{path}"


def agent_url(task_id: str, action: str = "") -> str:
    """The URL of one agent (a task), e.g. agent_url(task_id, "/leave")."""
    return rtt_url(f"/agents/{quote(task_id, safe='')}{action}")
