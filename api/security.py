"""What makes the API safe to expose: proxy awareness, CORS allow-list, API keys, rate limits.

Which of them applies to a route is the route module's own declaration (api.policy).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from types import ModuleType

from flask import Flask, Response, current_app, request
from flask_cors import CORS
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from api.errors import ApiError
from api.policy import policy_of, url_patterns
from utils.send_response import send_error

# Headers a page on another origin may send and read.
ALLOWED_HEADERS = ["Content-Type", "Authorization", "X-Request-ID"]
EXPOSED_HEADERS = ["X-Request-ID", "Retry-After"]


def init_app(app: Flask, routes: list[ModuleType]) -> None:
    """Register each route module's blueprint under the policy the module declares."""
    config = app.config
    if config["TRUSTED_PROXIES"]:
        # The client's address (for rate limits and logs) is what the proxies in front say.
        hops = config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    limiter = _init_rate_limiter(app)
    limits = {
        "tokens": limiter.shared_limit(lambda: current_app.config["RATELIMIT_TOKENS"], scope="tokens"),
        "rtt": limiter.shared_limit(lambda: current_app.config["RATELIMIT_RTT"], scope="rtt"),
    }
    for module in routes:
        policy = policy_of(module)
        if policy.rate_limit is not None:
            limits[policy.rate_limit](module.bp)  # before the key check: a key guesser is limited too
        app.register_blueprint(module.bp)
    if config["API_KEYS"]:
        # One app-level hook: blueprints outlive an app (tests build many), so nothing is added to them.
        app.extensions["api_key_digests"] = [hashlib.sha256(key.encode()).digest() for key in config["API_KEYS"]]
        app.extensions["api_key_blueprints"] = {module.bp.name for module in routes if policy_of(module).api_key}
        app.before_request(_require_api_key)
    if config["CORS_ORIGINS"]:
        cors_routes = [module for module in routes if policy_of(module).cors]
        CORS(
            app,
            resources={pattern: {"origins": config["CORS_ORIGINS"]} for pattern in url_patterns(app, cors_routes)},
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            methods=["GET", "POST", "DELETE", "OPTIONS"],
            max_age=600,
        )


def _require_api_key() -> None:
    if request.method == "OPTIONS" or request.blueprint not in current_app.extensions["api_key_blueprints"]:
        return
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    # Compare digests, against every key: the time taken says nothing about the keys.
    digest = hashlib.sha256(presented.strip().encode()).digest()
    matched = False
    for known in current_app.extensions["api_key_digests"]:
        matched |= hmac.compare_digest(digest, known)
    if scheme.lower() != "bearer" or not matched:
        raise ApiError(
            401,
            "unauthorized",
            "This API needs `Authorization: Bearer <key>` with one of the keys in API_KEYS.",
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )


def _init_rate_limiter(app: Flask) -> Limiter:
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        # A moving window holds the promise "at most N in any window": a fixed window lets a
        # burst of 2N through across its boundary. Memory and Redis storage both support it.
        strategy="moving-window",
        # Its own headers would put a Retry-After on every answer and overwrite Agora's; the
        # 429 handler below sets the one Retry-After that matters.
        headers_enabled=False,
    )
    limiter.request_filter(lambda: request.method == "OPTIONS")  # CORS preflights are free
    app.extensions["rate_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    return limiter


def _rate_limited(_exc: RateLimitExceeded) -> Response:
    limit = current_app.extensions["rate_limiter"].current_limit
    wait = max(1, int(limit.reset_at - time.time())) if limit is not None else 1
    return send_error(
        429,
        "rate_limited",
        "Too many requests from this client; retry after the time in Retry-After.",
        headers={"Retry-After": str(wait)},
    )
