"""nginx's configuration for deploy/serve: the template's values, and nginx's own errors as JSON."""

from __future__ import annotations

import json
import math
import pwd
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
TEMPLATE = DEPLOY / "nginx.conf.template"

# gunicorn's listen queue (its `backlog` default; gunicorn.conf.py keeps it), capped by the kernel.
GUNICORN_BACKLOG = 2048
# Connections nginx keeps for clients that are idle, slow, or not yet through their headers.
CLIENT_RESERVE = 4096
# nginx's `listen ... backlog`: room for a burst while the worker accepts.
LISTEN_BACKLOG = 4096

# Every error nginx answers itself, in the service's shape (README, "Errors"), by status.
# The messages may use the values of `Limits` by name.
NGINX_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request is malformed: its request line or headers could not be read."),
    403: ("forbidden", "This file may not be read."),
    404: ("not_found", "No such file."),
    405: ("method_not_allowed", "This method is not allowed for this URL."),
    408: ("request_timeout", "The request did not arrive within {client_timeout} s."),
    413: ("payload_too_large", "The request body is larger than {max_body} bytes."),
    414: ("uri_too_long", "The request line is longer than 4 KB."),
    429: (
        "too_many_connections",
        "Too many requests in progress from this address (at most {connections_per_client} at once); "
        "retry after the time in Retry-After.",
    ),
    431: ("headers_too_large", "A request header is longer than 4 KB, or all of them together longer than 16 KB."),
    # nginx's own status for a plain HTTP request on its HTTPS port; answered as a 400
    497: ("https_required", "This port speaks HTTPS: send the request with https://."),
    500: ("internal_error", "The proxy in front of the service failed; it has been logged."),
    502: ("bad_gateway", "The service behind the proxy did not answer; try again shortly."),
    501: ("not_implemented", "This Transfer-Encoding is not supported: send the body with a length, or chunked."),
    503: ("service_unavailable", "The service is unavailable; try again shortly."),
    504: ("gateway_timeout", "The service did not answer within {proxy_read_timeout} s."),
    505: ("http_version_not_supported", "Only HTTP/1.0 and HTTP/1.1 are served here."),
}
# error_page: the status nginx reaches -> (the status it answers, the body). 494 is nginx's
# internal status for headers too large: answered as 431, the standard one.
ERROR_PAGES = {status: (status, status) for status in NGINX_ERRORS} | {494: (431, 431), 497: (400, 497)}


@dataclass(frozen=True)
class Limits:
    max_body: int
    client_timeout: int
    proxy_read_timeout: int
    connections_per_client: int
    worker_connections: int


def agora_wait_budget(settings: Mapping[str, Any]) -> float:
    """The longest an API call can wait on Agora: every attempt's timeouts, and the waits between.

    The retry policy is the one make_request really uses (utils/make_request.retry_policy).
    """
    from utils.make_request import retry_policy

    retry = retry_policy()
    attempts = 1 + retry.total
    per_attempt = settings["AGORA_CONNECT_TIMEOUT"] + settings["AGORA_READ_TIMEOUT"]
    return attempts * per_attempt + retry.total * retry.MAX_RETRY_AFTER


def compute_limits(settings: Mapping[str, Any], gunicorn: Mapping[str, Any], environ: Mapping[str, str]) -> Limits:
    """The numbers nginx needs, from the service's settings, gunicorn's shape and NGINX_* overrides."""
    # What gunicorn can take at once: its connections, then its socket's queue. A proxied
    # request needs two nginx connections (client and gunicorn); nginx's table is sized so
    # that it can never open more connections to gunicorn than that, plus room for clients
    # that are only connected.
    queue = min(GUNICORN_BACKLOG, _somaxconn())
    gunicorn_capacity = int(gunicorn["workers"]) * int(gunicorn["worker_connections"]) + queue
    # One address may take all of it but gunicorn's own connections' worth, so that another
    # client always gets in.
    default_per_client = max(1, gunicorn_capacity - int(gunicorn["workers"]) * int(gunicorn["worker_connections"]))
    budget = agora_wait_budget(settings)
    return Limits(
        max_body=settings["MAX_CONTENT_LENGTH"],
        client_timeout=_positive_int(environ, "NGINX_CLIENT_TIMEOUT", 10),
        proxy_read_timeout=_positive_int(environ, "NGINX_PROXY_READ_TIMEOUT", math.ceil(budget) + 5),
        connections_per_client=_positive_int(environ, "NGINX_CONNECTIONS_PER_CLIENT", default_per_client),
        worker_connections=2 * gunicorn_capacity + CLIENT_RESERVE,
    )


@dataclass(frozen=True)
class Tls:
    certificate: Path
    key: Path


def tls_files(environ: Mapping[str, str]) -> Tls | None:
    """NGINX_TLS_CERTIFICATE and NGINX_TLS_CERTIFICATE_KEY (PEM files, both or neither): nginx then speaks HTTPS."""
    names = ("NGINX_TLS_CERTIFICATE", "NGINX_TLS_CERTIFICATE_KEY")
    given = [environ.get(name, "").strip() for name in names]
    if not any(given):
        return None
    problems = []
    for name, value in zip(names, given, strict=True):
        if not value:
            problems.append(f"{name} is missing (set both {names[0]} and {names[1]}, or neither)")
        elif not _PLAIN_PATH.fullmatch(value):
            problems.append(f"{name} must be a path without spaces, quotes, ';', '{{' or '}}'")
        elif not Path(value).is_file():
            problems.append(f"{name}: no file at {value}")
    if problems:
        raise ValueError("; ".join(problems))
    return Tls(Path(given[0]).resolve(), Path(given[1]).resolve())


_PLAIN_PATH = re.compile(r"[^\s;{}'\"]+")


def _tls_directives(tls: Tls | None) -> str:
    if tls is None:
        return "        # Plain HTTP: TLS is terminated in front of this nginx, or not at all (README, Deploying)."
    return "\n".join(
        [
            f"        ssl_certificate {tls.certificate};",
            f"        ssl_certificate_key {tls.key};",
            "        ssl_protocols TLSv1.2 TLSv1.3;",
            "        ssl_session_cache shared:tls:10m;",
            "        ssl_session_timeout 1h;",
        ]
    )


def render(
    runtime: Path,
    socket: Path,
    listen: str,
    limits: Limits,
    *,
    access_log: bool,
    as_root: bool,
    error_level: str,
    tls: Tls | None = None,
) -> Path:
    """Write nginx.conf and the error bodies into `runtime`; return the configuration's path."""
    errors = runtime / "_errors"
    errors.mkdir(exist_ok=True)
    values = {name: getattr(limits, name) for name in Limits.__dataclass_fields__}
    for status, (code, message) in NGINX_ERRORS.items():
        body = {"error": {"code": code, "message": message.format(**values)}}
        (errors / f"{status}.json").write_text(json.dumps(body, separators=(",", ":")) + "\n")
    pages = "\n".join(
        f"        error_page {status} {'' if answered == status else f'={answered} '}/_errors/{body}.json;"
        for status, (answered, body) in sorted(ERROR_PAGES.items())
    )
    replacements = {
        "USER_DIRECTIVE": f"user {_worker_user()};" if as_root else "# not root: nginx runs as this user",
        "NOFILE": str(limits.worker_connections + 64),
        "RUNTIME": str(runtime),
        "ERROR_LOG_LEVEL": error_level,
        "WORKER_CONNECTIONS": str(limits.worker_connections),
        "ACCESS_LOG": "access_log /dev/stdout service buffer=32k flush=1s;" if access_log else "access_log off;",
        "SOCKET": str(socket),
        "CLIENT_TIMEOUT": str(limits.client_timeout),
        "PROXY_READ_TIMEOUT": str(limits.proxy_read_timeout),
        "LISTEN": listen,
        "LISTEN_TLS": " ssl" if tls else "",
        "TLS": _tls_directives(tls),
        "BACKLOG": str(LISTEN_BACKLOG),
        "MAX_BODY": str(limits.max_body),
        "CONNECTIONS_PER_CLIENT": str(limits.connections_per_client),
        "ERROR_PAGES": pages,
        "STATIC": str(ROOT / "api" / "static"),
    }
    text = re.sub(r"@([A-Z_]+)@", lambda match: replacements[match.group(1)], TEMPLATE.read_text())
    path = runtime / "nginx.conf"
    path.write_text(text)
    return path


_LISTEN = re.compile(r"unix:/[^\s;{}'\"]+|((\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?[0-9]{1,5}")


def listen_address(environ: Mapping[str, str]) -> str:
    """nginx's `listen` from BIND, else PORT (default 8080) on every interface, as gunicorn reads them."""
    bind = environ.get("BIND", "").strip()
    if not bind:
        port = environ.get("PORT", "").strip() or "8080"
        bind = f"0.0.0.0:{port}"
    if not _LISTEN.fullmatch(bind):
        raise ValueError(f"BIND/PORT must be host:port, [ipv6]:port, a port or unix:/path, not {bind!r}")
    return bind


ERROR_LOG_LEVELS = ("debug", "info", "notice", "warn", "error", "crit")


def error_log_level(environ: Mapping[str, str]) -> str:
    """NGINX_ERROR_LOG_LEVEL, default warn (a client timing out is info: not logged)."""
    level = environ.get("NGINX_ERROR_LOG_LEVEL", "").strip().lower() or "warn"
    if level not in ERROR_LOG_LEVELS:
        raise ValueError(f"NGINX_ERROR_LOG_LEVEL must be one of {', '.join(ERROR_LOG_LEVELS)}, not {level!r}")
    return level


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a positive whole number, not {text!r}")
    return int(text)


def _somaxconn() -> int:
    try:
        return int(Path("/proc/sys/net/core/somaxconn").read_text())
    except (OSError, ValueError):
        return 128  # the historical default: the safe assumption


def _worker_user() -> str:
    """Started as root, nginx's workers drop to Debian's web user (or nobody)."""
    try:
        pwd.getpwnam("www-data")
        return "www-data"
    except KeyError:
        return "nobody"
