"""The Flask app factory: settings, error model, Agora session and one blueprint per route file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from api.settings import ConfigError, describe_mode, load_settings

__all__ = ["ConfigError", "create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. Settings come from the environment, then `config` (tests) on top.

    Raises ConfigError, naming every missing or malformed variable, before anything serves.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_settings(os.environ, config))
    app.json.sort_keys = False  # keep the documented field order

    from api import demo, edge, errors, health, metrics, openapi, request_id, security, static_versions, tokens
    from api.rtt import notifications, query, speakers, start, stop, sweeper, tasks, transcripts, update
    from api.rtt.upstream_slots import UpstreamSlots
    from state import open_store
    from utils.make_request import build_session

    edge.init_app(app)  # inside the request id middleware, so its refusals carry an id too
    request_id.init_app(app)
    metrics.init_app(app)  # counts every answer by route and status
    errors.register_error_handlers(app)
    app.extensions["agora_session"] = build_session(app.config["AGORA_POOL_SIZE"], app.config["AGORA_API_BASE_URL"])
    app.extensions["agora_slots"] = UpstreamSlots(app.config["AGORA_POOL_SIZE"], app.config["AGORA_CONNECT_TIMEOUT"])
    app.extensions["state"] = open_store(app.config, app.instance_path)
    app.extensions["openapi"] = openapi.build_document(app.config)

    # Every route module; each declares its own policy (rate limit, API key, CORS): api.policy.
    routes = [demo, health, metrics, openapi, tokens, start, query, stop, tasks, update]
    routes.append(notifications)  # Agora's NCS callback: its HMAC alone authenticates it
    routes += [speakers, transcripts]  # names and transcripts (api/rtt/transcripts.py)
    security.init_app(app, routes)
    static_versions.init_app(app)  # ?v=<digest> on static URLs: safe to cache for a year
    sweeper.init_app(app)  # MAX_TASK_SECONDS: stops tasks past the cap, in the background

    if app.config["AGORA_MODE"] == "sandbox":
        import sandbox

        sandbox.install(app)  # says so loudly in the log
    else:
        app.logger.info(describe_mode(app.config))
    return app
