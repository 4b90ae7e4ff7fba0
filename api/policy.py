"""What applies to a route module's requests, declared in the module and applied by the factory.

A route module sets `POLICY = RoutePolicy(...)` beside its blueprint `bp`; create_app hands
every module to api.security, which puts each blueprint under its policy. A new route then
touches only its own module and the factory's list of routes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType

from flask import Flask


@dataclass(frozen=True)
class RoutePolicy:
    # The shared rate limit the route counts against ("tokens" or "rtt"), or None for none.
    rate_limit: str | None = None
    # Whether `Authorization: Bearer <key>` is required when API_KEYS is set.
    api_key: bool = False
    # Whether pages on the origins in CORS_ORIGINS may call it with fetch.
    cors: bool = False


# Pages, health checks and anything without a declared policy: open, unlimited, same-origin.
OPEN = RoutePolicy()


def api_route(rate_limit: str | None) -> RoutePolicy:
    """The API that pages call: the API key, CORS, and the route's rate limit."""
    return RoutePolicy(rate_limit=rate_limit, api_key=True, cors=True)


def policy_of(module: ModuleType) -> RoutePolicy:
    return getattr(module, "POLICY", OPEN)


def url_patterns(app: Flask, modules: list[ModuleType]) -> list[str]:
    """Regular expressions for the paths of these modules' routes (for flask-cors' `resources`)."""
    names = {module.bp.name for module in modules}
    patterns = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.partition(".")[0] in names:
            parts = re.split(r"<[^>]+>", rule.rule)
            patterns.append("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")
    return sorted(set(patterns))
