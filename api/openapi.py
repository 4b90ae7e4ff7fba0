"""GET /api/openapi.json: the OpenAPI 3.1 contract of the API.

Built from the validators' own constants, so the document and the code cannot drift apart;
the tests fuzz the running server against it (schemathesis).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app

from api import validation
from api.policy import api_route
from api.rtt import options
from utils.languages import SUPPORTED_LANGUAGES

bp = Blueprint("openapi", __name__)
POLICY = api_route(None)

TASK_STATUSES = ["IDLE", "STARTING", "RUNNING", "STOPPING", "STOPPED", "RECOVERING", "FAILED"]


@bp.get("/api/openapi.json")
def get() -> dict[str, Any]:
    return current_app.extensions["openapi"]


def build_document(config: Mapping[str, Any]) -> dict[str, Any]:
    """The document for this deployment: with bearer security when API_KEYS is set."""
    secured = bool(config["API_KEYS"])
    paths: dict[str, Any] = {}
    for path, legacy, operation in (
        ("/api/tokens.json", "/api/token.json", _tokens()),
        ("/api/rtt/start.json", "/api/transcription/start.json", _start(config)),
        ("/api/rtt/query.json", "/api/transcription/query.json", _query()),
        ("/api/rtt/stop.json", "/api/transcription/stop.json", _stop()),
    ):
        if secured:
            operation["responses"]["401"] = _error("No valid `Authorization: Bearer <key>` (API_KEYS is set).")
        paths[path] = {"post": operation}
        paths[legacy] = {
            "post": {
                **operation,
                "operationId": operation["operationId"] + "Legacy",
                "deprecated": True,
                "summary": operation["summary"] + " (the guide's path)",
            }
        }
    paths["/api/rtt/tasks.json"] = {"get": _tasks(secured)}
    paths["/api/rtt/update.json"] = {"post": _update(secured)}
    paths.update(_transcript_paths(secured))
    paths["/api/rtt/notifications.json"] = {"post": _notifications()}
    paths["/api/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["meta"],
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}},
                **({"401": _error("No valid API key.")} if secured else {}),
            },
        }
    }
    paths["/healthz"] = {
        "get": {
            "operationId": "health",
            "summary": "Liveness, and which Agora this instance talks to",
            "tags": ["meta"],
            "security": [],
            "responses": {
                "200": {
                    "description": "Up",
                    "headers": _REQUEST_ID_HEADER,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["status", "mode", "rtt"],
                                "properties": {
                                    "status": {"const": "ok"},
                                    "mode": {"enum": ["sandbox", "live"]},
                                    "rtt": {"const": "7.x"},
                                },
                            }
                        }
                    },
                }
            },
        }
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Agora live captions backend",
            "version": "1.0.0",
            "description": "RTC tokens, and Agora Real-Time Transcription 7.x tasks (start, query, stop) "
            'for live captions. Every error is `{"error": {"code", "message", "field"?}}`.',
        },
        "paths": paths,
        "components": {"schemas": {**_SCHEMAS, **_token_schemas(config["TOKEN_VERSION"])}},
    }
    if secured:
        document["components"]["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"bearerAuth": []}]
    return document


_REQUEST_ID_HEADER = {
    "X-Request-ID": {"description": "The request's id, as sent or generated", "schema": {"type": "string"}}
}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {**_REQUEST_ID_HEADER, **(headers or {})},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(schema: str) -> dict[str, Any]:
    return {
        "description": "Success",
        "headers": _REQUEST_ID_HEADER,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}, "required": True}}


def _common_errors(*, upstream: bool) -> dict[str, Any]:
    errors = {
        "400": _error("A field breaks its rule (`invalid_field`, naming it) or the body is not a JSON object."),
        "413": _error("The body is larger than MAX_CONTENT_LENGTH."),
        "415": _error("The body is not sent as application/json."),
        "429": _error("Too many requests from this client, or from this project at Agora.", _RETRY_AFTER),
        "500": _error("A bug; logged with the request id."),
    }
    if upstream:
        errors["502"] = _error("Agora failed or refused (`agora_auth_failed`, `agora_rejected`, `agora_unavailable`).")
        errors["503"] = _error(
            "Every connection of this worker to Agora is waiting on it (`agora_busy`); nothing was sent; retry.",
            {"Retry-After": {"schema": {"type": "string"}}},
        )
        errors["504"] = _error("Agora did not answer in time (`agora_timeout`).")
    return errors


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _tokens() -> dict[str, Any]:
    return {
        "operationId": "generateToken",
        "summary": "Mint a token (AccessToken2 007, or the legacy 006) for one uid in one channel",
        "tags": ["tokens"],
        "requestBody": _body("TokenRequest"),
        "responses": {
            "200": _ok("TokenResponse"),
            "403": _error("The channel does not match CHANNEL_PATTERN (`channel_forbidden`)."),
            **_common_errors(upstream=False),
        },
    }


def _start(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "operationId": "startTranscription",
        "summary": "Start live transcription in a channel (Agora RTT 7.x join)",
        "tags": ["rtt"],
        "requestBody": _start_body(config),
        "responses": {
            "200": {
                **_ok("StartResponse"),
                "links": {
                    "QueryTask": {
                        "operationId": "queryTranscription",
                        "requestBody": {"taskId": "$response.body#/taskId"},
                    },
                    "StopTask": {
                        "operationId": "stopTranscription",
                        "requestBody": {"taskId": "$response.body#/taskId"},
                    },
                },
            },
            "403": _error("The channel does not match CHANNEL_PATTERN (`channel_forbidden`)."),
            "409": _error("Agora reports a conflicting task (`agora_conflict`)."),
            **_common_errors(upstream=True),
            "503": _error(
                "Another start for the channel still waits on Agora (`start_in_progress`), or every connection "
                "to Agora waits on it (`agora_busy`); retry.",
                {"Retry-After": {"schema": {"type": "string"}}},
            ),
        },
    }


def _update(secured: bool) -> dict[str, Any]:
    return {
        "operationId": "updateTranscription",
        "summary": "Change a running task's languages, translation or audio (Agora RTT 7.x update), no restart",
        "description": "The service numbers the updates (`sequenceId`) and names the fields sent (`updateMask`). "
        "Agora takes an update only 5 s after the start and after the previous update: inside that gap the "
        "answer is 429 `update_too_soon` with `Retry-After` (whole seconds), and nothing is sent to Agora.",
        "tags": ["rtt"],
        "requestBody": _body("UpdateRequest"),
        "responses": {
            "200": _ok("UpdateResponse"),
            "404": _error("Unknown or stopped task, or none in the channel (`task_not_found`)."),
            **({"401": _error("No valid API key.")} if secured else {}),
            **_common_errors(upstream=True),
            "429": _error("Inside Agora's 5 s gap (`update_too_soon`), or rate limited.", _RETRY_AFTER),
        },
    }


def _start_body(config: Mapping[str, Any]) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/StartRequest"}
    if not config.get("CAPTION_STORAGE"):
        # Without CAPTION_STORAGE_* on this server, recordCaptions: true is refused (400).
        schema = {"allOf": [schema, {"properties": {"recordCaptions": {"const": False}}}]}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _query() -> dict[str, Any]:
    return {
        "operationId": "queryTranscription",
        "summary": "The status of a transcription task, as Agora reports it",
        "tags": ["rtt"],
        "requestBody": _body("TaskRequest"),
        "responses": {
            "200": _ok("QueryResponse"),
            "404": _error("Unknown task, or no task running in the channel (`task_not_found`)."),
            **_common_errors(upstream=True),
        },
    }


def _stop() -> dict[str, Any]:
    return {
        "operationId": "stopTranscription",
        "summary": "Stop a transcription task (Agora RTT 7.x leave)",
        "tags": ["rtt"],
        "requestBody": _body("TaskRequest"),
        "responses": {
            "200": _ok("StopResponse"),
            "404": _error("Unknown or already stopped task, or none in the channel (`task_not_found`)."),
            **_common_errors(upstream=True),
        },
    }


def _tasks(secured: bool) -> dict[str, Any]:
    return {
        "operationId": "listTranscriptions",
        "summary": "The transcription tasks running now, reconciled with Agora's list",
        "tags": ["rtt"],
        "responses": {
            "200": _ok("TaskList"),
            **({"401": _error("No valid API key.")} if secured else {}),
            **_common_errors(upstream=True),
        },
    }


def _notifications() -> dict[str, Any]:
    signature = {"type": "string", "pattern": "^[0-9A-Fa-f]+$"}
    return {
        "operationId": "receiveNotification",
        "summary": "Called by Agora: a Notifications (NCS) event for Real-Time STT (101 joined, 102 left)",
        "description": "The URL to enter in Agora Console > Notifications. Enabled when NCS_SECRET is set "
        "(404 otherwise). No API key: the HMAC of the raw body, keyed with NCS_SECRET, authenticates it "
        "(`Agora-Signature-V2` SHA256 when present, else `Agora-Signature` SHA1). Each `noticeId` is applied once.",
        "tags": ["notifications"],
        "security": [],
        "parameters": [
            {"name": "Agora-Signature-V2", "in": "header", "schema": signature, "description": "hex HMAC-SHA256"},
            {"name": "Agora-Signature", "in": "header", "schema": signature, "description": "hex HMAC-SHA1"},
        ],
        "requestBody": _body("Notification"),
        "responses": {
            "200": _ok("NotificationReceipt"),
            "400": _error("The signed body is not a JSON object, or `noticeId`/`eventType`/`payload` is malformed."),
            "401": _error("Missing or wrong signature (`invalid_signature`)."),
            "404": _error("Notifications are not enabled (NCS_SECRET is unset)."),
            "413": _error("The body is larger than MAX_CONTENT_LENGTH."),
            "500": _error("A bug; logged with the request id."),
        },
    }


_CHANNEL = {
    "type": "string",
    "pattern": f"^{validation.CHANNEL}$",
    "description": validation.CHANNEL_RULE,
    "examples": ["demo"],
}
_BOT_UID = {"type": "integer", "minimum": 0, "maximum": validation.MAX_UID}
_IGNORED = {"description": "Sent by clients of the guide's 6.x API; accepted and ignored."}

_LANGUAGES = {
    "type": "array",
    "items": {"enum": sorted(SUPPORTED_LANGUAGES)},
    "minItems": 1,
    "maxItems": validation.MAX_LANGUAGES,
    "uniqueItems": True,
}
_SPEAKER_UID = {
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": validation.MAX_UID},
        {"type": "string", "pattern": f"^({options.SPEAKER_UID_STRING})$"},
    ]
}
_CODES = sorted(SUPPORTED_LANGUAGES)
_OPTIONS: dict[str, Any] = {
    "uidLanguagesConfig": {
        "type": "array",
        "minItems": 1,
        "maxItems": options.MAX_UID_LANGUAGE_SPEAKERS,
        "description": "The languages each speaker talks in",
        "items": {
            "type": "object",
            "required": ["uid", "languages"],
            "properties": {"uid": _SPEAKER_UID, "languages": _LANGUAGES},
        },
    },
    "subscribeAudioUids": {
        "description": 'Transcribe only these speakers (or ["all"]); not with unSubscribeAudioUids',
        "anyOf": [
            {"const": [options.ALL_UIDS]},
            {"type": "array", "items": _SPEAKER_UID, "minItems": 1, "maxItems": options.MAX_SUBSCRIBE_UIDS},
        ],
    },
    "unSubscribeAudioUids": {
        "description": "Transcribe everyone but these speakers; not with subscribeAudioUids",
        "type": "array",
        "items": _SPEAKER_UID,
        "minItems": 1,
        "maxItems": options.MAX_UNSUBSCRIBE_UIDS,
    },
    "translate": {
        "type": "object",
        "required": ["languages"],
        "description": "Live translation: each source language into up to 10 targets (translateConfig.languages)",
        "properties": {
            "languages": {
                "type": "array",
                "minItems": 1,
                "maxItems": options.MAX_TRANSLATE_SOURCES,
                "items": {
                    "type": "object",
                    "required": ["source", "target"],
                    "properties": {
                        "source": {"enum": _CODES},
                        "target": {**_LANGUAGES, "maxItems": options.MAX_TRANSLATE_TARGETS},
                    },
                    # A source is never among its own targets (as `not`: the generators lack if/then).
                    "not": {
                        "anyOf": [
                            {
                                "required": ["source", "target"],
                                "properties": {"source": {"const": code}, "target": {"contains": {"const": code}}},
                            }
                            for code in _CODES
                        ]
                    },
                },
                # Each source once.
                "allOf": [
                    {
                        "contains": {"properties": {"source": {"const": code}}, "required": ["source"]},
                        "minContains": 0,
                        "maxContains": 1,
                    }
                    for code in _CODES
                ],
            }
        },
    },
}


def _token_schemas(default_version: str) -> dict[str, Any]:
    """TokenRequest and TokenResponse; what the request may combine depends on the server's TOKEN_VERSION."""
    no_rtm = {"properties": {"services": {"not": {"contains": {"const": "rtm"}}}}}
    if default_version == "007":
        rtm_rule = {"if": {"required": ["version"], "properties": {"version": {"const": "006"}}}, "then": no_rtm}
    else:
        rtm_rule = {"if": {"required": ["version"], "properties": {"version": {"const": "007"}}}, "else": no_rtm}
    return {
        "TokenRequest": {
            "type": "object",
            "required": ["channel", "uid"],
            "properties": {
                "channel": _CHANNEL,
                "uid": {
                    "description": "0 lets any uid join with the token",
                    "oneOf": [
                        {"type": "integer", "minimum": 0, "maximum": validation.MAX_UID},
                        {"type": "string", "pattern": f"^({validation.UID_STRING})$"},
                    ],
                },
                "role": {"enum": ["publisher", "subscriber"], "default": "publisher"},
                "expireTime": {
                    "type": "integer",
                    "minimum": validation.EXPIRE_TIME_RANGE[0],
                    "maximum": validation.EXPIRE_TIME_RANGE[1],
                    "default": validation.DEFAULT_EXPIRE_TIME,
                    "description": "Seconds from now",
                },
                "version": {
                    "enum": list(validation.TOKEN_VERSIONS),
                    "default": default_version,
                    "description": "007: AccessToken2 (needed by Signaling and Agora's REST token auth); "
                    "006: legacy, for SDKs older than Web 4.8 / native 4.0. Default: the server's TOKEN_VERSION",
                },
                "services": {
                    "type": "array",
                    "items": {"enum": list(validation.TOKEN_SERVICES)},
                    "minItems": 1,
                    "maxItems": len(validation.TOKEN_SERVICES),
                    "uniqueItems": True,
                    "contains": {"const": "rtc"},
                    "default": validation.DEFAULT_SERVICES,
                    "description": '"rtm" adds Signaling (RTM 2.x) login for the same user; 007 only',
                },
                "rtmUserId": {
                    "type": "string",
                    "pattern": f"^{validation.CHANNEL}$",
                    "description": validation.RTM_USER_ID_RULE + '. Default: the uid as a decimal string. Needs "rtm"',
                },
                "name": {
                    "type": "string",
                    "pattern": f"^{validation.SPEAKER_NAME}$",
                    "description": validation.SPEAKER_NAME_RULE + ". Shown in captions and transcripts; needs a uid",
                },
            },
            "allOf": [
                rtm_rule,
                {"if": {"required": ["name"]}, "then": {"properties": {"uid": {"not": {"enum": [0, "0"]}}}}},
            ],
            "dependentSchemas": {
                "rtmUserId": {"required": ["services"], "properties": {"services": {"contains": {"const": "rtm"}}}}
            },
        },
        "TokenResponse": {
            "type": "object",
            "required": ["token", "channel", "uid", "role", "expiresAt", "appId", "version"],
            "properties": {
                "token": {"type": "string", "pattern": "^(007eJx|006[0-9a-fA-F]{32})"},
                "channel": {"type": "string"},
                "uid": _BOT_UID,
                "role": {"enum": ["publisher", "subscriber"]},
                "expiresAt": {"type": "integer", "description": "Unix seconds; renew the token before then"},
                "appId": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$"},
                "version": {"enum": list(validation.TOKEN_VERSIONS)},
                "services": {
                    "type": "array",
                    "items": {"enum": list(validation.TOKEN_SERVICES)},
                    "description": "The token's services (007 only)",
                },
                "rtmUserId": {"type": "string", "description": "Signaling's user id in the token (with rtm)"},
                "name": {"type": "string", "description": "The speaker's name, trimmed (when one was given)"},
            },
        },
    }


_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "For programs, e.g. invalid_field, task_not_found"},
                    "message": {"type": "string", "description": "For people: what went wrong and the rule"},
                    "field": {"type": "string", "description": "The input field at fault"},
                    "agoraStatus": {"type": "integer", "description": "Agora's HTTP status"},
                    "agoraReason": {"type": "string", "description": "Agora's own words"},
                    "agoraRequestId": {"type": "string"},
                },
            }
        },
    },
    "StartRequest": {
        "type": "object",
        "required": ["channel"],
        "properties": {
            "channel": _CHANNEL,
            "languages": {
                "type": "array",
                "items": {"enum": sorted(SUPPORTED_LANGUAGES)},
                "minItems": 1,
                "maxItems": validation.MAX_LANGUAGES,
                "uniqueItems": True,
                "default": validation.DEFAULT_LANGUAGES,
            },
            "maxIdleTime": {
                "type": "integer",
                "minimum": validation.MAX_IDLE_TIME_RANGE[0],
                "maximum": validation.MAX_IDLE_TIME_RANGE[1],
                "default": validation.DEFAULT_MAX_IDLE_TIME,
                "description": "Seconds without anyone in the channel before the task ends by itself",
            },
            **_OPTIONS,
            "keywords": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "maxItems": options.MAX_KEYWORDS,
                "description": "Words or phrases to favour in recognition",
            },
            "enableJsonProtocol": {
                "type": "boolean",
                "description": "Captions as gzip-compressed JSON instead of protobuf (rtcConfig.enableJsonProtocol)",
            },
            "recordCaptions": {
                "type": "boolean",
                "default": False,
                "description": "Record caption files to the storage set by the server's CAPTION_STORAGE_* "
                "(a 400 when none is set). A client's own captionConfig is ignored.",
            },
            "builderToken": _IGNORED,
        },
        "not": {"required": ["subscribeAudioUids", "unSubscribeAudioUids"]},
    },
    "UpdateRequest": {
        "type": "object",
        "description": "The task by `taskId`, or the task running in `channel`; at least one field to change. "
        "Each field given replaces the task's whole field.",
        "allOf": [
            {"anyOf": [{"required": ["taskId"]}, {"required": ["channel"]}]},
            {"anyOf": [{"required": [name]} for name in options.UPDATE_MASKS]},
        ],
        "properties": {
            "taskId": {"type": "string", "pattern": f"^{validation.TASK_ID}$"},
            "channel": _CHANNEL,
            "languages": _LANGUAGES,
            **_OPTIONS,
            # An empty list clears the per-speaker languages.
            "uidLanguagesConfig": {**_OPTIONS["uidLanguagesConfig"], "minItems": 0},
        },
        "not": {"required": ["subscribeAudioUids", "unSubscribeAudioUids"]},
    },
    "UpdateResponse": {
        "type": "object",
        "required": ["taskId", "status", "sequenceId", "updateMask"],
        "properties": {
            "taskId": {"type": "string"},
            "status": {"type": "string", "examples": TASK_STATUSES},
            "createTs": {"type": ["integer", "null"]},
            "sequenceId": {"type": "integer", "minimum": 1, "description": "Agora's sequenceId for this update"},
            "updateMask": {"type": "array", "items": {"type": "string"}, "examples": [["languages"]]},
        },
    },
    "StartResponse": {
        "type": "object",
        "required": ["taskId", "status", "createTs", "channel", "pubBotUid", "subBotUid", "alreadyRunning"],
        "properties": {
            "taskId": {"type": "string"},
            "status": {"type": "string", "examples": TASK_STATUSES},
            "createTs": {"type": "integer"},
            "channel": {"type": "string"},
            "pubBotUid": {
                **_BOT_UID,
                "type": ["integer", "null"],
                "description": "Caption messages arrive from this uid's data stream (null for an adopted agent)",
            },
            "subBotUid": {**_BOT_UID, "type": ["integer", "null"]},
            "alreadyRunning": {
                "type": "boolean",
                "description": "true: the channel's running task, answered without starting another agent",
            },
        },
    },
    "TaskRequest": {
        "type": "object",
        "description": "The task by `taskId`, or the task running in `channel`",
        "anyOf": [{"required": ["taskId"]}, {"required": ["channel"]}],
        "properties": {
            "taskId": {"type": "string", "pattern": f"^{validation.TASK_ID}$"},
            "channel": _CHANNEL,
            "builderToken": _IGNORED,
        },
    },
    "Notification": {
        "type": "object",
        "required": ["noticeId", "eventType"],
        "properties": {
            "sid": {"type": "string", "description": "The agent id"},
            "noticeId": {"type": "string", "minLength": 1, "maxLength": 128},
            "productId": {"type": "integer", "examples": [20]},
            "eventType": {"type": "integer", "examples": [101, 102]},
            "notifyMs": {"type": "integer"},
            "payload": {
                "type": "object",
                "properties": {
                    "agent_id": {"type": "string"},
                    "channel": {"type": "string"},
                    "start_ts": {"type": "integer"},
                    "stop_ts": {"type": "integer"},
                    "status": {"type": "string", "examples": ["STOPPED", "FAILED"]},
                    "message": {"type": "string", "examples": ["OK", "Idle for too long", "Fatal ASR error"]},
                },
            },
        },
    },
    "NotificationReceipt": {
        "type": "object",
        "required": ["received", "noticeId", "outcome"],
        "properties": {
            "received": {"const": True},
            "noticeId": {"type": "string"},
            "outcome": {"enum": ["accepted", "duplicate", "stale", "unknown_agent", "ignored"]},
        },
    },
    "TaskList": {
        "type": "object",
        "required": ["tasks"],
        "properties": {
            "tasks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["taskId", "channel", "status", "createTs"],
                    "properties": {
                        "taskId": {"type": "string"},
                        "channel": {"type": ["string", "null"], "description": "null: running at Agora, not tied"},
                        "status": {"type": "string", "examples": TASK_STATUSES},
                        "createTs": {"type": "integer"},
                    },
                },
            }
        },
    },
    "QueryResponse": {
        "type": "object",
        "required": ["taskId", "status", "createTs"],
        "properties": {
            "taskId": {"type": "string"},
            "status": {"type": "string", "examples": TASK_STATUSES},
            "createTs": {"type": ["integer", "null"]},
            "channel": {"type": "string"},
            "message": {"type": "string"},
            "endedReason": {"type": "string", "description": "Why an ended task ended"},
        },
    },
    "StopResponse": {
        "type": "object",
        "required": ["taskId", "status"],
        "properties": {"taskId": {"type": "string"}, "status": {"type": "string"}, "channel": {"type": "string"}},
    },
}


# -- speaker names and transcripts (api/rtt/speakers.py, api/rtt/transcripts.py) ----------------

_CHANNEL_QUERY = {"name": "channel", "in": "query", "required": True, "schema": _CHANNEL}
_TASK_ID_SCHEMA = {"type": "string", "pattern": f"^{validation.TASK_ID}$"}
_TRANSCRIPT_ERRORS = {
    "404": _error("`task_not_found`, or `no_transcript` (the task did not record, or has no such language)."),
    "501": _error("`storage_not_supported`: the storage vendor (Azure) cannot be read back."),
    "502": _error("`storage_unavailable`: the storage failed, with its reason (never a key)."),
}


def _transcript_paths(secured: bool) -> dict[str, Any]:
    unauthorized = {"401": _error("No valid API key.")} if secured else {}
    errors = {**unauthorized, **_common_errors(upstream=False)}
    text = {"schema": {"type": "string"}}
    return {
        "/api/rtt/speakers.json": {
            "get": {
                "operationId": "speakers",
                "summary": "The names given with the channel's tokens: {uid: name}",
                "tags": ["rtt"],
                "parameters": [_CHANNEL_QUERY],
                "responses": {
                    "200": {
                        "description": "uid (as a string) -> name",
                        "headers": _REQUEST_ID_HEADER,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "propertyNames": {"pattern": f"^({validation.UID_STRING})$"},
                                    "additionalProperties": {"type": "string"},
                                }
                            }
                        },
                    },
                    **errors,
                },
            }
        },
        "/api/rtt/transcripts.json": {
            "get": {
                "operationId": "listTranscripts",
                "summary": "A channel's tasks, their languages, and whether each transcript is partial or complete",
                "tags": ["rtt"],
                "parameters": [_CHANNEL_QUERY],
                "responses": {"200": _ok("TranscriptList"), **errors, **_TRANSCRIPT_ERRORS},
            }
        },
        "/api/rtt/transcripts/{transcript}": {
            "get": {
                "operationId": "transcript",
                "summary": "A task's transcript as WebVTT, SRT, text or JSON, streamed",
                "tags": ["rtt"],
                "parameters": [
                    {
                        "name": "transcript",
                        "in": "path",
                        "required": True,
                        "description": "<taskId>.vtt, .srt, .txt or .json",
                        "schema": {"type": "string", "pattern": f"^{validation.TASK_ID}\\.(vtt|srt|txt|json)$"},
                    },
                    {
                        "name": "lang",
                        "in": "query",
                        "required": False,
                        "description": "One track (a spoken language or a translation); default: every spoken one",
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{2,32}$"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The transcript; X-Transcript-State says partial or complete",
                        "headers": {
                            **_REQUEST_ID_HEADER,
                            "X-Transcript-State": {"schema": {"enum": ["partial", "complete"]}},
                        },
                        "content": {
                            "text/vtt": text,
                            "application/x-subrip": text,
                            "text/plain": text,
                            "application/json": {"schema": {"$ref": "#/components/schemas/Transcript"}},
                        },
                    },
                    **errors,
                    **_TRANSCRIPT_ERRORS,
                },
            },
            "delete": {
                "operationId": "deleteTranscript",
                "summary": "Delete an ended task's caption files and the names kept with it",
                "tags": ["rtt"],
                "parameters": [
                    {
                        "name": "transcript",
                        "in": "path",
                        "required": True,
                        "description": "The taskId",
                        "schema": _TASK_ID_SCHEMA,
                    }
                ],
                "responses": {
                    "200": _ok("TranscriptDeleted"),
                    "409": _error("`task_running`: stop the task first."),
                    **errors,
                    **_TRANSCRIPT_ERRORS,
                },
            },
        },
    }


_SECONDS = {"type": "number", "minimum": 0}
_SCHEMAS.update(
    {
        "Transcript": {
            "type": "object",
            "required": ["taskId", "channel", "language", "languages", "state", "createTs", "cues"],
            "properties": {
                "taskId": {"type": "string"},
                "channel": {"type": "string"},
                "language": {"type": ["string", "null"], "description": "The lang asked for, or null: all spoken"},
                "languages": {"type": "array", "items": {"type": "string"}},
                "state": {"enum": ["partial", "complete"]},
                "createTs": {"type": "integer"},
                "cues": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["start", "end", "uid", "name", "text", "language"],
                        "properties": {
                            "start": {**_SECONDS, "description": "Seconds from the task's start"},
                            "end": _SECONDS,
                            "uid": {"type": ["integer", "null"]},
                            "name": {"type": ["string", "null"]},
                            "text": {"type": "string"},
                            "language": {"type": ["string", "null"]},
                        },
                    },
                },
            },
        },
        "TranscriptList": {
            "type": "object",
            "required": ["channel", "tasks"],
            "properties": {
                "channel": {"type": "string"},
                "tasks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["taskId", "status", "createTs", "recordsCaptions", "languages", "transcript"],
                        "properties": {
                            "taskId": {"type": "string"},
                            "status": {"type": "string"},
                            "createTs": {"type": "integer"},
                            "endedTs": {"type": ["number", "null"]},
                            "recordsCaptions": {"type": "boolean"},
                            "languages": {"type": "array", "items": {"type": "string"}},
                            "translations": {"type": "array", "items": {"type": "string"}},
                            "transcript": {"enum": ["partial", "complete", None]},
                        },
                    },
                },
            },
        },
        "TranscriptDeleted": {
            "type": "object",
            "required": ["taskId", "deletedObjects", "forgottenNames"],
            "properties": {
                "taskId": {"type": "string"},
                "deletedObjects": {"type": "integer", "minimum": 0},
                "forgottenNames": {"type": "integer", "minimum": 0},
            },
        },
    }
)
