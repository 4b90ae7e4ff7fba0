"""The built-in Agora sandbox: an emulator of the RTT 7.x API beneath the service's Session."""

from __future__ import annotations

import os

from flask import Flask, request

from api.settings import describe_mode, notifications_secret
from sandbox.adapter import SandboxAdapter
from sandbox.emulator import create_emulator
from sandbox.notifier import Notifier
from sandbox.store import SandboxStore


def install(app: Flask) -> None:
    """Route the app's Agora calls to the emulator and add the /sandbox routes."""
    config = app.config
    path = config["SANDBOX_DB"] or os.path.join(app.instance_path, "sandbox.sqlite3")
    store = SandboxStore(path)
    recorder = _caption_recorder(app, path)
    notifier = _notifier(app, store)
    emulator = create_emulator(
        store,
        app_id=config["APP_ID"],
        app_certificate=config["APP_CERTIFICATE"],
        customer_id=config["CUSTOMER_ID"],
        customer_secret=config["CUSTOMER_SECRET"],
        recorder=recorder,
        notifier=notifier,
    )
    app.extensions["sandbox_store"] = store
    app.extensions["sandbox_recorder"] = recorder
    app.extensions["agora_session"].mount(config["AGORA_API_BASE_URL"] + "/", SandboxAdapter(emulator))

    from sandbox.routes import bp

    app.register_blueprint(bp)
    app.logger.warning(describe_mode(config))


def _caption_recorder(app: Flask, db_path: str):
    """Caption files go where the service reads them: its CAPTION_STORAGE, else the instance's bucket/ folder."""
    from api.rtt.transcripts import storage_of
    from sandbox.recording import CaptionRecorder
    from utils.caption_storage import UnreadableStorage

    def storage_for(_agent):
        if not app.config.get("CAPTION_STORAGE"):
            return None
        try:
            return storage_of(app)
        except UnreadableStorage:
            return None  # Azure: the emulator takes the join and, like the reader, cannot write there

    return CaptionRecorder(db_path, storage_for)


def _notifier(app: Flask, store: SandboxStore) -> Notifier | None:
    """With notifications on (NCS_SECRET or SANDBOX_NOTIFICATIONS), a Notifier posting to this service.

    It posts to SANDBOX_NOTIFY_URL, else to the service's own URL as its first request names it
    (its Host header: set SANDBOX_NOTIFY_URL when others can reach a sandbox); that first
    request starts its thread too, so that an app built and never served starts none.
    """
    secret = notifications_secret(app.config)
    if secret is None:
        return None
    target = {"url": app.config["SANDBOX_NOTIFY_URL"]}
    notifier = Notifier(
        store,
        secret,
        lambda: target["url"],
        duplicates=app.config["SANDBOX_NOTIFY_DUPLICATES"],
        reorder=app.config["SANDBOX_NOTIFY_REORDER"],
    )

    def start_sandbox_notifier() -> None:
        if target["url"] is None:
            target["url"] = request.host_url + "api/rtt/notifications.json"
        notifier.start()

    app.before_request(start_sandbox_notifier)
    app.extensions["sandbox_notifier"] = notifier
    return notifier
