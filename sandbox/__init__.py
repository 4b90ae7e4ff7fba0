"""The built-in Agora sandbox: an emulator of the RTT 7.x API beneath the service's Session."""

from __future__ import annotations

import os

from flask import Flask

from api.settings import describe_mode
from sandbox.adapter import SandboxAdapter
from sandbox.emulator import create_emulator
from sandbox.store import SandboxStore


def install(app: Flask) -> None:
    """Route the app's Agora calls to the emulator and add the /sandbox routes."""
    config = app.config
    path = config["SANDBOX_DB"] or os.path.join(app.instance_path, "sandbox.sqlite3")
    store = SandboxStore(path)
    emulator = create_emulator(
        store,
        app_id=config["APP_ID"],
        app_certificate=config["APP_CERTIFICATE"],
        customer_id=config["CUSTOMER_ID"],
        customer_secret=config["CUSTOMER_SECRET"],
    )
    app.extensions["sandbox_store"] = store
    app.extensions["agora_session"].mount(config["AGORA_API_BASE_URL"] + "/", SandboxAdapter(emulator))

    from sandbox.routes import bp

    app.register_blueprint(bp)
    app.logger.warning(describe_mode(config))
