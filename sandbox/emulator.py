"""An emulator of Agora's Real-Time STT 7.x REST API (docs/agora.md, "RTT 7.x").

It checks what a real project would: the Basic credential, the App ID in the URL, the join
body (required fields, types, limits) and that each bot token is a valid 006 token for that
bot's uid and the channel, with the privileges the bot needs. It answers with Agora's shapes
and statuses. Faults queued in the store replace the next answer.

Transport effects (latency, a hang, a dropped connection) cannot be produced by a WSGI app
itself; the emulator asks for them with the X-Sandbox-* headers below, and whatever carries
its answers (the in-process adapter, or the HTTP server in __main__) acts them out.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import uuid
from typing import Any

from flask import Flask, Response, after_this_request, g, jsonify, request

from api.validation import CHANNEL
from sandbox import rtc_token, token006
from sandbox.store import LEFT_OK, BotUidTaken, NameTaken, SandboxStore
from utils.languages import SUPPORTED_LANGUAGES

DELAY_HEADER = "X-Sandbox-Delay"
DISCONNECT_HEADER = "X-Sandbox-Disconnect"
HANG_SECONDS = 3600.0

PREFIX = "/api/speech-to-text/v1/projects/<app_id>"
_CHANNEL = re.compile(CHANNEL)  # Agora's channel-name rule, shared with the service's validation
_UID = re.compile(r"[1-9][0-9]{0,9}")
_OPS = {"join": "join", "query": "query", "leave": "leave", "update": "update", "list_agents": "list"}


class Rejected(Exception):
    """An Agora error answer: status and the 7.x body {"detail", "reason"}."""

    def __init__(self, status: int, detail: str, reason: str) -> None:
        super().__init__(detail)
        self.status, self.detail, self.reason = status, detail, reason


def create_emulator(
    store: SandboxStore,
    *,
    app_id: str,
    app_certificate: str,
    customer_id: str,
    customer_secret: str,
    recorder: Any = None,
    notifier: Any = None,
) -> Flask:
    """A WSGI app that answers like api.agora.io for one project and one REST credential pair.

    `recorder` (sandbox.recording.CaptionRecorder) writes the caption files of agents that record.
    `notifier` (sandbox.notifier.Notifier) is told of each join, to post Agora's notifications.
    """
    app = Flask("sandbox.emulator")

    def record(agent) -> None:
        if recorder is not None and agent is not None:
            recorder.flush(agent, store.clock())

    expected_credential = base64.b64encode(f"{customer_id}:{customer_secret}".encode()).decode()

    @app.after_request
    def request_id(response: Response) -> Response:
        response.headers.setdefault("X-Request-ID", uuid.uuid4().hex)
        return response

    @app.errorhandler(Rejected)
    def rejected(exc: Rejected) -> tuple[Response, int]:
        return jsonify(detail=exc.detail, reason=exc.reason), exc.status

    @app.errorhandler(404)
    def no_route(_exc: Exception) -> tuple[Response, int]:
        return jsonify(detail="no such API", reason="NotFound"), 404

    @app.errorhandler(405)
    def wrong_method(_exc: Exception) -> tuple[Response, int]:
        return jsonify(detail="method not allowed", reason="MethodNotAllowed"), 405

    @app.before_request
    def fault_then_auth() -> Response | None:
        op = _OPS.get(request.endpoint or "")
        if op is None:  # the control routes
            return None
        fault = store.take_fault(op)
        if fault is not None and "fail" in fault:
            g.fail = fault  # the join goes ahead; its agent fails later
        elif fault is not None:
            response = _fault_response(fault)
            if response is not None:
                return response
        _check_credential(expected_credential)
        if request.view_args and request.view_args.get("app_id") != app_id:
            raise Rejected(403, "invalid_appid!", "Forbidden")
        return None

    @app.post(f"{PREFIX}/join")
    def join(app_id: str) -> Response:
        body = _json_object()
        name, languages, max_idle_time, rtc = _check_join(body, app_id, app_certificate)
        options = _check_options(body)
        try:
            agent = store.create_agent(
                app_id=app_id,
                name=name,
                channel=rtc["channelName"],
                languages=languages,
                pub_bot_uid=rtc["pubBotUid"],
                sub_bot_uid=rtc.get("subBotUid"),
                max_idle_time=max_idle_time,
                now=store.clock(),
                options=options,
                fail_after=g.fail["after"] if "fail" in g else None,
                fail_message=g.fail["fail"] if "fail" in g else None,
            )
        except NameTaken:
            raise Rejected(409, f"an agent named {name!r} exists; names are never reused", "Conflict") from None
        except BotUidTaken:
            raise Rejected(409, "rtcConfig.pubBotUid is already used by an agent in this channel", "Conflict") from None
        if notifier is not None:
            notifier.joined(agent)
        return jsonify(agent_id=agent.agent_id, create_ts=int(agent.create_ts), status=agent.status(store.clock()))

    @app.get(f"{PREFIX}/agents/<agent_id>")
    def query(app_id: str, agent_id: str) -> Response:
        agent = _agent_or_404(store, app_id, agent_id)
        now = store.clock()
        record(agent)
        answer = {
            "message": agent.stop_message(now) or "ok",
            "agent_id": agent.agent_id,
            "create_ts": int(agent.create_ts),
            "status": agent.status(now),
        }
        return jsonify(answer)

    @app.post(f"{PREFIX}/agents/<agent_id>/leave")
    def leave(app_id: str, agent_id: str) -> Response:
        if not store.stop_agent(app_id, agent_id, LEFT_OK, store.clock()):
            raise Rejected(404, f"agent {agent_id} is not running", "TaskNotFound")
        record(store.get_agent(app_id, agent_id))  # the last slice and #EXT-X-ENDLIST
        return Response(status=200)  # Agora documents no body for leave

    @app.post(f"{PREFIX}/agents/<agent_id>/update")
    def update(app_id: str, agent_id: str) -> Response:
        agent = _agent_or_404(store, app_id, agent_id)
        now = store.clock()
        if agent.is_stopped(now):
            raise Rejected(404, f"agent {agent_id} is not running", "TaskNotFound")
        sequence_id = request.args.get("sequenceId", type=int)
        if sequence_id is None or sequence_id <= agent.sequence_id:
            raise Rejected(400, "sequenceId must be an integer greater than the last one", "InvalidParameter")
        mask = [item for item in request.args.get("updateMask", "").split(",") if item]
        if not mask:
            raise Rejected(400, "updateMask is required", "InvalidParameter")
        # Agora's rule; its answer to a breach is not documented (unconfirmed): a 429 here.
        if now - agent.changed_ts < UPDATE_GAP_SECONDS:
            raise Rejected(429, "update too frequent: wait 5 s after the join and between updates", "TooManyRequests")
        changes = _check_update(_json_object(), mask)
        store.update_agent(app_id, agent_id, sequence_id, mask, changes, now)
        return jsonify(agent_id=agent.agent_id, create_ts=int(agent.create_ts), status=agent.status(now))

    @app.get("/_sandbox/agents/<agent_id>")
    def describe(agent_id: str) -> Response:
        """What an agent runs with and the updates it took (no storage key), for tests over HTTP."""
        agent = _agent_or_404(store, app_id, agent_id)
        return jsonify(describe_agent(store, agent))

    @app.get(f"{PREFIX}/agents")
    def list_agents(app_id: str) -> Response:
        now = store.clock()
        agents = store.list_agents(app_id, request.args.get("channel"))
        for agent in agents:
            record(agent)
        limit = min(max(request.args.get("limit", 20, type=int), 1), 100)
        items = [{"agent_id": a.agent_id, "start_ts": int(a.create_ts), "status": a.status(now)} for a in agents]
        return jsonify(
            data={"count": len(items[:limit]), "list": items[:limit]},
            meta={"cursor": items[limit - 1]["agent_id"] if len(items) > limit else "", "total": len(items)},
        )

    # -- control routes, for tests and benchmarks that reach the emulator over HTTP ------------

    @app.post("/_sandbox/faults")
    def add_fault() -> tuple[Response, int]:
        op, spec, count = parse_fault(request.get_json(silent=True))
        store.add_fault(op, spec, count)
        return jsonify(queued={"op": op, "count": count, **spec}), 201

    @app.delete("/_sandbox/faults")
    def clear_faults() -> Response:
        store.clear_faults()
        return Response(status=204)

    return app


def parse_fault(body: Any) -> tuple[str, dict[str, Any], int]:
    """{"op": "join"|"query"|"leave"|"update"|"list"|"any", "count": n, and one of
    "status" (+ "body", "headers", or "echo": the request body quoted in the error), "hang", "delay",
    "malformed", "disconnect", or "fail" (op "join": the join works and its agent ends `after`
    seconds later, default 1.5, with this message: "Fatal ASR error" and the like fail it,
    "Idle for too long" stops it)}."""
    if not isinstance(body, dict):
        raise Rejected(400, "a fault is a JSON object", "InvalidParameter")
    op = body.get("op", "any")
    if op not in ("join", "query", "leave", "update", "list", "any"):
        raise Rejected(400, "op must be join, query, leave, update, list or any", "InvalidParameter")
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
        raise Rejected(400, "count must be an integer from 1 to 1000", "InvalidParameter")
    spec: dict[str, Any] = {}
    if "fail" in body:
        message, after = body["fail"], body.get("after", 1.5)
        if op != "join":
            raise Rejected(400, 'a "fail" fault is for op "join": it makes the joined agent fail', "InvalidParameter")
        if not isinstance(message, str) or not 1 <= len(message) <= 200:
            raise Rejected(400, "fail is the message the agent ends with, such as Fatal ASR error", "InvalidParameter")
        if isinstance(after, bool) or not isinstance(after, (int, float)) or not 0 <= after <= HANG_SECONDS:
            raise Rejected(400, "after is seconds from the join, 0 to 3600", "InvalidParameter")
        spec = {"fail": message, "after": float(after)}
    elif "status" in body:
        status = body["status"]
        if not isinstance(status, int) or not 200 <= status <= 599:
            raise Rejected(400, "status must be an HTTP status", "InvalidParameter")
        spec = {"status": status, "body": body.get("body"), "headers": body.get("headers") or {}}
        if body.get("echo"):
            # Answer with what was sent, as a careless API's error might: the whole body (true),
            # or one top-level field of it (its name).
            spec["echo"] = body["echo"] if isinstance(body["echo"], str) else True
    elif body.get("hang"):
        spec = {"hang": True}
    elif isinstance(body.get("delay"), (int, float)) and 0 <= body["delay"] <= HANG_SECONDS:
        spec = {"delay": float(body["delay"])}
    elif body.get("malformed"):
        spec = {"malformed": True}
    elif body.get("disconnect"):
        spec = {"disconnect": True}
    else:
        raise Rejected(400, "give one of status, hang, delay, malformed, disconnect or fail", "InvalidParameter")
    return op, spec, count


def _fault_response(fault: dict[str, Any]) -> Response | None:
    """The answer a fault stands for; None lets the call go on (a plain delay)."""
    if "status" in fault:
        body = fault["body"]
        if fault.get("echo"):
            sent = request.get_data(as_text=True)
            if isinstance(fault["echo"], str):
                sent = f"{fault['echo']} {json.dumps((request.get_json(silent=True) or {}).get(fault['echo']))}"
            body = {"detail": f"body schema check fail: {sent}", "reason": "Echo"}
        if body is None:
            body = {"detail": f"injected fault {fault['status']}", "reason": "InjectedFault"}
        response = jsonify(body) if not isinstance(body, str) else Response(body, content_type="text/plain")
        response.status_code = fault["status"]
        response.headers.update({str(k): str(v) for k, v in fault["headers"].items()})
        return response
    if fault.get("malformed"):
        return Response("<html><body>502 Bad Gateway</body></html>", status=200, content_type="application/json")
    if fault.get("disconnect"):
        return Response(status=200, headers={DISCONNECT_HEADER: "1"})
    if fault.get("hang"):
        return Response(status=200, headers={DELAY_HEADER: str(HANG_SECONDS)})
    if "delay" in fault:
        # Let the call run, and ask the transport to deliver the answer late.
        @after_this_request
        def late(response: Response) -> Response:
            response.headers[DELAY_HEADER] = str(fault["delay"])
            return response

    return None


def _check_credential(expected: str) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise Rejected(401, "missing Basic authorization", "Unauthorized")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Rejected(401, "malformed Basic authorization", "Unauthorized") from None
    if not hmac.compare_digest(value.strip(), expected):
        raise Rejected(401, "invalid customer id or secret", "Unauthorized")


def _json_object() -> dict[str, Any]:
    if request.content_length and not request.is_json:
        raise Rejected(400, "body schema check fail, Content-Type must be application/json", "InvalidParameter")
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict):
        raise Rejected(400, "body schema check fail, the body is not a JSON object", "InvalidParameter")
    return body


def _schema(message: str) -> Rejected:
    return Rejected(400, f"body schema check fail, {message}", "InvalidParameter")


def _check_languages(value: Any) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= 4 or len(set(map(str, value))) != len(value):
        raise _schema("languages must hold 1 to 4 different language codes")
    for code in value:
        if code not in SUPPORTED_LANGUAGES:
            raise _schema(f"languages: {str(code)[:40]!r} is not supported")
    return value


def _check_join(body: dict[str, Any], app_id: str, app_certificate: str) -> tuple[str, list[str], int, dict[str, Any]]:
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise _schema("name is required: a unique string of at most 64 characters")
    languages = _check_languages(body.get("languages"))
    max_idle_time = body.get("maxIdleTime", 30)
    if not isinstance(max_idle_time, int) or isinstance(max_idle_time, bool) or not 5 <= max_idle_time <= 2_592_000:
        raise _schema("maxIdleTime must be an integer from 5 to 2592000")

    rtc = body.get("rtcConfig")
    if not isinstance(rtc, dict):
        raise _schema("rtcConfig is required")
    channel = rtc.get("channelName")
    if not isinstance(channel, str) or not _CHANNEL.fullmatch(channel):
        raise _schema("rtcConfig.channelName breaks Agora's channel-name rules")
    bots = [("pubBotUid", "pubBotToken", (token006.JOIN_CHANNEL, token006.PUBLISH_DATA))]
    if "subBotUid" in rtc:
        bots.append(("subBotUid", "subBotToken", (token006.JOIN_CHANNEL,)))
    for uid_key, token_key, privileges in bots:
        uid = rtc.get(uid_key)
        # Agora: uids are ints sent as decimal strings; a bot needs a real uid, not 0.
        if not isinstance(uid, str) or not _UID.fullmatch(uid) or int(uid) > 4_294_967_295:
            raise _schema(f"rtcConfig.{uid_key} must be a uid from 1 to 4294967295 as a string")
        token = rtc.get(token_key)
        if not isinstance(token, str) or not token:
            raise _schema(f"rtcConfig.{token_key} is required: the project has an App Certificate")
        try:
            rtc_token.verify(
                token,
                app_id=app_id,
                app_certificate=app_certificate,
                channel=channel,
                uid=int(uid),
                privileges=privileges,
            )
        except token006.TokenError as exc:
            raise Rejected(400, f"rtcConfig.{token_key}: {exc}", "InvalidToken") from None
    return name, languages, max_idle_time, rtc


UPDATE_GAP_SECONDS = 5.0
_MASKS = {
    "languages": ("languages",),
    "uidLanguagesConfig": ("uidLanguagesConfig",),
    "keywords": ("keywords",),
    "translateConfig.languages": ("translateConfig", "languages"),
    "translateConfig.enable": ("translateConfig", "enable"),
    "rtcConfig.subscribeAudioUids": ("rtcConfig", "subscribeAudioUids"),
    "rtcConfig.unSubscribeAudioUids": ("rtcConfig", "unSubscribeAudioUids"),
}
_STORAGE_VENDORS = (1, 2, 3, 5, 6, 7, 8, 11)
_FOLDER = re.compile(r"[A-Za-z0-9]+")


def _check_options(body: dict[str, Any]) -> dict[str, Any]:
    """The join's optional fields, checked as Agora documents them; returned as the agent keeps them."""
    options: dict[str, Any] = {}
    if "uidLanguagesConfig" in body:
        options["uidLanguagesConfig"] = _check_uid_languages(body["uidLanguagesConfig"])
    if "keywords" in body:
        options["keywords"] = _check_keywords(body["keywords"])
    rtc = body.get("rtcConfig") or {}
    options.update(_check_subscription(rtc, rtc))
    # Listed under rtcConfig; a top-level one is accepted too (the references are not consistent).
    for where in (rtc, body):
        if "enableJsonProtocol" in where:
            if not isinstance(where["enableJsonProtocol"], bool):
                raise _schema("enableJsonProtocol must be a boolean")
            options["enableJsonProtocol"] = where["enableJsonProtocol"]
    if "translateConfig" in body:
        translate = body["translateConfig"]
        if not isinstance(translate, dict):
            raise _schema("translateConfig must be an object")
        options["translateConfig"] = {"languages": _check_translate(translate.get("languages"))}
    if "captionConfig" in body:
        options["captionConfig"] = _check_caption_config(body["captionConfig"], body)
    return options


def _check_update(body: dict[str, Any], mask: list[str]) -> dict[str, Any]:
    """The fields an update replaces whole, each named in the mask and present in the body."""
    changes: dict[str, Any] = {}
    for item in mask:
        path = _MASKS.get(item)
        if path is None:
            raise Rejected(400, f"updateMask: {item[:60]!r} cannot be updated", "InvalidParameter")
        value: Any = body
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            raise _schema(f"updateMask names {item}, which the body does not carry")
        if item == "languages":
            changes["languages"] = _check_languages(value)
        elif item == "uidLanguagesConfig":
            changes["uidLanguagesConfig"] = _check_uid_languages(value)
        elif item == "keywords":
            changes["keywords"] = _check_keywords(value)
        elif item == "translateConfig.languages":
            changes["translateConfig"] = {"languages": _check_translate(value)}
        elif item.startswith("rtcConfig."):
            subscription = _check_subscription(body["rtcConfig"], {item.split(".")[1]: value})
            # one replaces the other: Agora takes one of the two lists, never both
            changes.update({"subscribeAudioUids": None, "unSubscribeAudioUids": None, **subscription})
    return changes


def _uid_string(value: Any) -> bool:
    # Agora: uids are ints sent as strings; a plain int is accepted too.
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return isinstance(text, str) and bool(_UID.fullmatch(text)) and int(text) <= 4_294_967_295


def _check_uid_languages(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > 5:
        raise _schema("uidLanguagesConfig holds at most 5 items")
    for item in value:
        if not isinstance(item, dict) or not _uid_string(item.get("uid")):
            raise _schema("uidLanguagesConfig items are {uid: a uid as a string, languages}")
        _check_languages(item.get("languages"))
    return [{"uid": str(item["uid"]), "languages": item["languages"]} for item in value]


def _check_keywords(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > 500 or not all(isinstance(word, str) for word in value):
        raise _schema("keywords holds at most 500 strings")
    return value


def _check_subscription(rtc: Any, fields: dict[str, Any]) -> dict[str, Any]:
    subscribe = fields.get("subscribeAudioUids")
    unsubscribe = fields.get("unSubscribeAudioUids")
    if subscribe is not None and unsubscribe is not None:
        raise _schema("give subscribeAudioUids or unSubscribeAudioUids, not both")
    if subscribe is not None:
        if subscribe != ["all"] and (
            not isinstance(subscribe, list) or not 1 <= len(subscribe) <= 32 or not all(map(_uid_string, subscribe))
        ):
            raise _schema('subscribeAudioUids holds 1 to 32 uids as strings, or ["all"]')
        return {"subscribeAudioUids": [str(uid) for uid in subscribe]}
    if unsubscribe is not None:
        if (
            not isinstance(unsubscribe, list)
            or not 1 <= len(unsubscribe) <= 5
            or not all(map(_uid_string, unsubscribe))
        ):
            raise _schema("unSubscribeAudioUids holds 1 to 5 uids as strings")
        return {"unSubscribeAudioUids": [str(uid) for uid in unsubscribe]}
    return {}


def _check_translate(pairs: Any) -> list[dict[str, Any]]:
    rule = "translateConfig.languages holds 1 to 4 sources, each with 1 to 10 targets other than itself"
    if not isinstance(pairs, list) or not 1 <= len(pairs) <= 4:
        raise _schema(rule)
    sources = set()
    for pair in pairs:
        if not isinstance(pair, dict) or pair.get("source") not in SUPPORTED_LANGUAGES:
            raise _schema(f"{rule}; every source is a supported language")
        targets = pair.get("target")
        if not isinstance(targets, list) or not 1 <= len(targets) <= 10 or pair["source"] in targets:
            raise _schema(rule)
        if any(target not in SUPPORTED_LANGUAGES for target in targets) or len(set(targets)) != len(targets):
            raise _schema(f"{rule}; every target is a supported language, once")
        if pair["source"] in sources:
            raise _schema(f"{rule}; each source once")
        sources.add(pair["source"])
    return [{"source": pair["source"], "target": pair["target"]} for pair in pairs]


def _check_caption_config(caption: Any, body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(caption, dict):
        raise _schema("captionConfig must be an object")
    slice_duration = caption.get("sliceDuration", 60)
    if not isinstance(slice_duration, int) or isinstance(slice_duration, bool) or not 5 <= slice_duration <= 28_800:
        raise _schema("captionConfig.sliceDuration must be an integer from 5 to 28800")
    storage = caption.get("storage")
    if not isinstance(storage, dict):
        raise _schema("captionConfig.storage is required")
    vendor = storage.get("vendor")
    if vendor not in _STORAGE_VENDORS or isinstance(vendor, bool):
        raise _schema("captionConfig.storage.vendor is not a supported vendor")
    if not isinstance(storage.get("region"), int) or isinstance(storage.get("region"), bool):
        raise _schema("captionConfig.storage.region must be an integer")
    for key in ("bucket", "accessKey", "secretKey"):
        # The reference spells accesskey/secretkey, its examples accessKey/secretKey: both are taken.
        value = storage.get(key, storage.get(key.lower()))
        if not isinstance(value, str) or not value:
            raise _schema(f"captionConfig.storage.{key} is required")
    prefix = storage.get("fileNamePrefix", [])
    if (
        not isinstance(prefix, list)
        or not all(isinstance(folder, str) and _FOLDER.fullmatch(folder) for folder in prefix)
        or len("/".join(prefix)) > 128
    ):
        raise _schema("captionConfig.storage.fileNamePrefix holds alphanumeric folder names, 128 characters in all")
    if vendor == 11:
        # Inside captionConfig per the record-captions page; the join reference shows it at the top level.
        extension = caption.get("extensionParams", body.get("extensionParams"))
        endpoint = extension.get("endpoint") if isinstance(extension, dict) else None
        if not isinstance(endpoint, str) or not re.match(r"https?://[^/\s]+", endpoint):
            raise _schema("captionConfig.extensionParams.endpoint (a full URL) is required for vendor 11")
    # Kept without the keys (its state is readable by tests): the files go where the service reads them.
    return {"sliceDuration": slice_duration, "vendor": vendor, "bucket": storage["bucket"], "fileNamePrefix": prefix}


def describe_agent(store: SandboxStore, agent) -> dict[str, Any]:
    now = store.clock()
    return {
        "agentId": agent.agent_id,
        "channel": agent.channel,
        "createTs": agent.create_ts,
        "status": agent.status(now),
        "languages": agent.languages,
        "options": {key: value for key, value in agent.options.items() if value is not None},
        "sequenceId": agent.sequence_id,
        "updates": store.updates_of(agent.agent_id),
    }


def _agent_or_404(store: SandboxStore, app_id: str, agent_id: str):
    agent = store.get_agent(app_id, agent_id)
    if agent is None:
        raise Rejected(404, f"agent {agent_id} not found", "TaskNotFound")
    return agent
