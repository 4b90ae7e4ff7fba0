"""The guide's makeRequest, done right: one pooled session, timeouts, typed upstream errors."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

logger = logging.getLogger("api.agora")

# Agora's reasons are short; anything longer is an HTML error page from a proxy.
_MAX_REASON = 300


class AgoraError(Exception):
    """A call to Agora's REST API failed. Carries what Agora said, never what we sent."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        request_id: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind  # "http", "timeout", "connection" or "bad_response"
        self.message = message
        self.status = status
        self.reason = reason
        self.request_id = request_id
        self.retry_after = retry_after


class _BoundedRetry(Retry):
    """urllib3's Retry, except that a Retry-After longer than a request can wait is passed on.

    Sleeping 60 s inside a worker because Agora asked us to would hold a request slot and
    then time out the client anyway; the caller is better served by our 429 and the header.
    """

    MAX_RETRY_AFTER = 2.0

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.MAX_RETRY_AFTER:
                raise MaxRetryError(_pool, url, ResponseError("Retry-After too long to wait"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def retry_policy() -> _BoundedRetry:
    """How make_request retries: connection failures (the request never reached Agora) for
    every method, and 429/503 for GET only. A POST (join, leave) is never retried: a second
    join would start a second agent.
    """
    return _BoundedRetry(
        total=2,
        connect=2,
        read=False,  # re-raise: a read timeout must surface as a timeout, not as MaxRetryError
        status=2,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=frozenset({429, 503}),
        backoff_factor=0.25,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def build_session(pool_size: int, base_url: str) -> requests.Session:
    """The one Session a worker uses for Agora (at base_url): pooled connections, retry_policy()."""
    session = requests.Session()
    # pool_block: a call waits for one of the pool_size connections instead of opening one
    # more for itself (which urllib3 would close after one use): connections to Agora stay
    # bounded by pool_size however many requests wait. api/rtt/upstream_slots.py bounds the
    # wait, so that no call ever waits here without end.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, pool_block=True, max_retries=retry_policy())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"User-Agent": "agora-rtt-backend"})
    _read_environment_once(session, base_url)
    return session


def _read_environment_once(session: requests.Session, base_url: str) -> None:
    """The proxy and CA bundle the environment sets for Agora, read at boot instead of on every call.

    With trust_env, requests walks os.environ for proxies on every request (140 µs per call
    with 35 variables, more in a container's environment) and looks for a ~/.netrc, whose
    entry for the host would even replace our Authorization header. The session only ever
    talks to base_url, so requests' own reading of the environment (HTTPS_PROXY, NO_PROXY,
    REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), done once for it, serves every call.
    """
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.trust_env = False
    session.proxies = settings["proxies"]
    session.verify = settings["verify"]


def make_request(
    method: str,
    url: str,
    credential: str,
    body: dict[str, Any] | None = None,
    *,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Call Agora and return its JSON object (empty if Agora sent no body).

    :param method: HTTP method, e.g. "POST".
    :param url: full URL under AGORA_API_BASE_URL, without a query string.
    :param credential: base64 of customerId:customerSecret, from generate_credential().
    :param body: JSON body to send, if any.
    :param params: query parameters, encoded by requests (never pasted into the URL).
    :raises AgoraError: on a timeout, a connection failure, a non-2xx status or a body that is not JSON.
    """
    config = current_app.config
    session: requests.Session = current_app.extensions["agora_session"]
    headers = {"Authorization": "Basic " + credential, "Accept": "application/json"}
    started = time.perf_counter()
    # How calls went, for /metrics: api.metrics puts its observer here (utils/ never imports api/).
    observe_agora = current_app.extensions.get("observe_agora", _not_observed)
    operation = agora_operation(method, url)
    try:
        response = session.request(
            method,
            url,
            headers=headers,
            json=body,
            params=params,
            timeout=(config["AGORA_CONNECT_TIMEOUT"], config["AGORA_READ_TIMEOUT"]),
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        observe_agora(operation, "timeout", time.perf_counter() - started)
        _log(method, url, started, outcome="timeout")
        raise AgoraError("timeout", f"Agora did not answer in time ({type(exc).__name__})") from exc
    except requests.RequestException as exc:
        observe_agora(operation, "connection", time.perf_counter() - started)
        _log(method, url, started, outcome="connection error")
        raise AgoraError("connection", f"could not reach Agora ({type(exc).__name__})") from exc

    elapsed = time.perf_counter() - started
    request_id = response.headers.get("X-Request-ID") or response.headers.get("X-Resource-ID")
    _log(method, url, started, outcome=str(response.status_code), agora_request_id=request_id)
    if not 200 <= response.status_code < 300:
        observe_agora(operation, f"{response.status_code // 100}xx", elapsed)
        raise AgoraError(
            "http",
            f"Agora answered {response.status_code}",
            status=response.status_code,
            reason=_reason(response),
            request_id=request_id,
            retry_after=response.headers.get("Retry-After"),
        )
    if not response.content.strip():
        observe_agora(operation, "ok", elapsed)
        return {}
    try:
        data = response.json()
    except (ValueError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict):
        observe_agora(operation, "bad_response", elapsed)
        raise AgoraError(
            "bad_response",
            "Agora answered with a body that is not a JSON object",
            status=response.status_code,
            request_id=request_id,
        )
    observe_agora(operation, "ok", elapsed)
    return data


def agora_operation(method: str, url: str) -> str:
    """Which RTT 7.x call this is, from its method and URL shape (agora-rtt-api.md, section 3), for metrics.

    POST .../join, GET .../agents, GET .../agents/{id}, POST .../agents/{id}/leave or /update.
    """
    path = urlsplit(url).path.rstrip("/")
    head, _, last = path.rpartition("/")
    if method == "POST" and last == "join":
        return "join"
    if method == "GET" and last == "agents":
        return "list"
    if method == "GET" and head.endswith("/agents"):
        return "query"
    if method == "POST" and last in ("leave", "update") and head.rpartition("/")[0].endswith("/agents"):
        return last
    return "other"


def _not_observed(operation: str, outcome: str, seconds: float) -> None:
    """An app built without api.metrics: nobody counts."""


def require_field(data: dict[str, Any], name: str) -> Any:
    """A field Agora's success answer must carry; its absence is an upstream fault, not ours."""
    value = data.get(name)
    if value in (None, ""):
        raise AgoraError("bad_response", f"Agora's answer has no {name}")
    return value


def _reason(response: requests.Response) -> str:
    """Agora's own words: `detail`/`reason` in 7.x, `message`/`code` in older APIs."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        parts = [str(data[key]) for key in ("detail", "reason", "message", "code") if data.get(key) not in (None, "")]
        text = "; ".join(dict.fromkeys(parts))
    else:
        text = " ".join(response.text.split())
    return (text or response.reason or "")[:_MAX_REASON]


def _log(method: str, url: str, started: float, *, outcome: str, agora_request_id: str | None = None) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    logger.info(
        "agora %s %s -> %s in %.0f ms (agora request id %s)",
        method,
        url.split("?", 1)[0],
        outcome,
        elapsed_ms,
        agora_request_id or "-",
    )
