"""Settings: read once from the environment, validated, with sandbox defaults."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

AGORA_CREDENTIALS = ("APP_ID", "APP_CERTIFICATE", "CUSTOMER_ID", "CUSTOMER_SECRET")

# A clearly fake development project. It can sign tokens and talk to the built-in
# emulator, and nothing else: no Agora project has these values.
SANDBOX_CREDENTIALS = {
    "APP_ID": "5a4db0c5000000000000000000000000",
    "APP_CERTIFICATE": "5a4db0c5ce7700000000000000000000",
    "CUSTOMER_ID": "sandbox-customer-id",
    "CUSTOMER_SECRET": "sandbox-customer-secret",
}

DEFAULTS: dict[str, Any] = {
    "AGORA_API_BASE_URL": "https://api.agora.io",
    # requests' advice: a connect timeout slightly above a multiple of 3 s (TCP retransmit).
    "AGORA_CONNECT_TIMEOUT": 3.05,
    "AGORA_READ_TIMEOUT": 10.0,
    # Connections to Agora per worker, and so calls waiting on it at once (api/rtt/upstream_slots.py).
    "AGORA_POOL_SIZE": 128,
    "CORS_ORIGINS": [],
    "API_KEYS": [],
    "CHANNEL_PATTERN": None,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Per client address and per worker (memory storage): generous enough for a school or an
    # office behind one NAT address, low enough to stop a script. Tune them for your users.
    "RATELIMIT_TOKENS": "100 per second; 3000 per minute",
    "RATELIMIT_RTT": "50 per second; 1000 per minute",
    "MAX_CONTENT_LENGTH": 16 * 1024,
    "TRUSTED_PROXIES": 0,
    "LOG_LEVEL": "INFO",
    "SANDBOX_DB": None,  # None: sandbox.sqlite3 in the instance folder
    # The token format minted by default, for the endpoint and the bots: "007" (AccessToken2)
    # or the legacy "006".
    "TOKEN_VERSION": "007",
    # The token lifetime the demo page asks for; it renews its token before that runs out.
    "DEMO_TOKEN_SECONDS": 3600,
    # The task registry and the facts shared with it: Redis across machines, else SQLite.
    "REDIS_URL": None,
    "STATE_DB": None,  # None: state.sqlite3 in the instance folder
}

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")


class ConfigError(Exception):
    """The service cannot start with this configuration; the message names each problem."""


def load_settings(environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge environment and overrides over the defaults, validate, and decide the mode.

    Every problem is collected so that one start-up names all of them at once.
    """
    raw: dict[str, Any] = {key: value for key, value in environ.items() if key in ENVIRONMENT_VARIABLES}
    raw.update(overrides or {})
    problems: list[str] = []
    settings: dict[str, Any] = dict(DEFAULTS)
    for key, value in raw.items():
        if key not in _PARSERS:
            settings[key] = value
            continue
        try:
            settings[key] = _PARSERS[key](value)
        except ValueError as exc:
            problems.append(f"{key} {exc}")

    settings["AGORA_MODE"] = _decide_mode(raw, problems)
    if settings["AGORA_MODE"] == "sandbox":
        settings.update(SANDBOX_CREDENTIALS)
    else:
        _check_credentials(settings, problems)
    settings["CAPTION_STORAGE"] = caption_storage(settings, problems)
    _sandbox_caption_storage(settings)
    if problems:
        raise ConfigError("; ".join(problems))
    return settings


def describe_mode(settings: Mapping[str, Any]) -> str:
    """One line for the start-up log: which Agora the service talks to."""
    if settings["AGORA_MODE"] == "sandbox":
        return (
            "SANDBOX MODE: no Agora credentials are set, so tokens are signed with a fake "
            "development project and transcription runs on the built-in Agora emulator. "
            "Set APP_ID, APP_CERTIFICATE, CUSTOMER_ID and CUSTOMER_SECRET to use a real Agora project."
        )
    return f"live mode: Agora project {settings['APP_ID']} via {settings['AGORA_API_BASE_URL']}"


def _decide_mode(raw: Mapping[str, Any], problems: list[str]) -> str:
    mode = str(raw.get("AGORA_MODE", "") or "").strip().lower()
    present = [name for name in AGORA_CREDENTIALS if str(raw.get(name, "") or "").strip()]
    if mode not in ("", "sandbox", "live"):
        problems.append("AGORA_MODE must be 'sandbox', 'live' or unset")
        return "live"
    if mode == "sandbox":
        if present:
            logging.getLogger(__name__).warning("AGORA_MODE=sandbox: ignoring %s", ", ".join(present))
        return "sandbox"
    if mode == "" and not present:
        return "sandbox"
    return "live"


def _check_credentials(settings: dict[str, Any], problems: list[str]) -> None:
    missing = [name for name in AGORA_CREDENTIALS if not str(settings.get(name) or "").strip()]
    if missing:
        problems.append(
            f"missing {', '.join(missing)}: set all four of {', '.join(AGORA_CREDENTIALS)} "
            "for a real Agora project, or none of them for the built-in sandbox"
        )
    for name in ("APP_ID", "APP_CERTIFICATE"):  # Agora issues both as 32 hex digits
        value = str(settings.get(name) or "").strip()
        if value and not _HEX32.fullmatch(value):
            # Never echo the value: the certificate is a secret.
            problems.append(f"{name} must be 32 hexadecimal characters (it has {len(value)} characters)")
    customer_id = str(settings.get("CUSTOMER_ID") or "")
    if ":" in customer_id:
        problems.append("CUSTOMER_ID must not contain ':' (it is the user part of Basic authentication)")
    for name in AGORA_CREDENTIALS:
        value = str(settings.get(name) or "").strip()
        if any(ch.isspace() for ch in value):
            problems.append(f"{name} must not contain whitespace")
        settings[name] = value


def _base_url(value: str) -> str:
    url = str(value).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("must be an http(s) URL such as https://api.agora.io")
    return url


def _positive_float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("must be a number of seconds") from None
    if not 0 < number <= 600:
        raise ValueError("must be between 0 and 600 seconds")
    return number


def _int_range(low: int, high: int):
    def parse(value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"must be an integer from {low} to {high}") from None
        if not low <= number <= high:
            raise ValueError(f"must be an integer from {low} to {high}")
        return number

    return parse


def _csv(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        items = [str(item).strip() for item in value]
    else:
        items = [item.strip() for item in str(value).split(",")]
    return [item for item in items if item]


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _pattern(value: Any) -> re.Pattern[str] | None:
    if value is None or isinstance(value, re.Pattern):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise ValueError(f"is not a valid regular expression ({exc})") from None


def _rate_limit(value: Any) -> str:
    from limits import parse_many

    text = str(value).strip()
    try:
        parse_many(text)
    except ValueError:
        raise ValueError("must be a rate limit such as '120 per minute' or '10/second'") from None
    return text


def _token_version(value: Any) -> str:
    from utils.generate_token import VERSIONS

    version = str(value).strip()
    if version not in VERSIONS:
        raise ValueError('must be "007" (AccessToken2) or "006" (legacy)')
    return version


def _redis_url(value: Any) -> str | None:
    url = str(value or "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("must be a redis://, rediss:// or unix:// URL such as redis://127.0.0.1:6379/0")
    return url


def _log_level(value: Any) -> str:
    level = str(value).strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level


_PARSERS = {
    "AGORA_API_BASE_URL": _base_url,
    "AGORA_CONNECT_TIMEOUT": _positive_float,
    "AGORA_READ_TIMEOUT": _positive_float,
    "AGORA_POOL_SIZE": _int_range(1, 4096),
    "CORS_ORIGINS": _csv,
    "API_KEYS": _csv,
    "CHANNEL_PATTERN": _pattern,
    "RATELIMIT_ENABLED": _bool,
    "RATELIMIT_TOKENS": _rate_limit,
    "RATELIMIT_RTT": _rate_limit,
    "MAX_CONTENT_LENGTH": _int_range(1024, 10 * 1024 * 1024),
    "TRUSTED_PROXIES": _int_range(0, 10),
    "LOG_LEVEL": _log_level,
    "TOKEN_VERSION": _token_version,
    # At least a minute, so that renewal and its retries fit before expiry; at most Agora's 24 h.
    "DEMO_TOKEN_SECONDS": _int_range(60, 86_400),
    "REDIS_URL": _redis_url,
}


# --- Caption storage: Agora's captionConfig, from server-side settings only -------------------
# (docs/agora.md, "Caption storage"). A request turns recording on with "recordCaptions": true;
# the bucket and its keys never come from, nor go back to, a client.

CAPTION_STORAGE_DEFAULTS: dict[str, Any] = {
    "CAPTION_STORAGE_VENDOR": None,
    "CAPTION_STORAGE_REGION": None,
    "CAPTION_STORAGE_BUCKET": None,
    "CAPTION_STORAGE_ACCESS_KEY": None,
    "CAPTION_STORAGE_SECRET_KEY": None,
    "CAPTION_STORAGE_FILE_PREFIX": None,
    "CAPTION_STORAGE_SLICE_DURATION": None,
    "CAPTION_STORAGE_ENDPOINT": None,
    "CAPTION_STORAGE_PROVIDER": None,
}
# The 7.x join reference's vendors (1 S3, 2 Alibaba, 3 Tencent, 5 Azure, 6 Google, 7 Huawei,
# 8 Baidu) plus 11, S3-compatible; the record-captions page lists only 1, 5, 6 and 11.
CAPTION_STORAGE_VENDORS = (1, 2, 3, 5, 6, 7, 8, 11)
S3_COMPATIBLE = 11
SLICE_DURATION_RANGE = (5, 28_800)
DEFAULT_SLICE_DURATION = 60
MAX_FILE_PREFIX = 128
_FOLDER = re.compile(r"[A-Za-z0-9]+")


def caption_storage(settings: Mapping[str, Any], problems: list[str]) -> dict[str, Any] | None:
    """The captionConfig Agora's join takes, or None when no CAPTION_STORAGE_* is set.

    Each missing or malformed setting is added to `problems`, by name; a key's value never is.
    """
    given = {name: str(settings.get(name) or "").strip() for name in CAPTION_STORAGE_DEFAULTS}
    if not any(given.values()):
        return None
    found = len(problems)
    for name in (
        "CAPTION_STORAGE_VENDOR",
        "CAPTION_STORAGE_BUCKET",
        "CAPTION_STORAGE_ACCESS_KEY",
        "CAPTION_STORAGE_SECRET_KEY",
    ):
        if not given[name]:
            problems.append(f"missing {name}: caption storage needs vendor, bucket, access key and secret key")
    vendor = None
    if given["CAPTION_STORAGE_VENDOR"]:
        try:
            vendor = int(given["CAPTION_STORAGE_VENDOR"])
        except ValueError:
            vendor = None
        if vendor not in CAPTION_STORAGE_VENDORS:
            problems.append(
                "CAPTION_STORAGE_VENDOR must be one of Agora's storage vendors "
                "1 (Amazon S3), 2, 3, 5 (Azure), 6 (Google Cloud), 7, 8 or 11 (S3-compatible)"
            )
            vendor = None
    for name in ("CAPTION_STORAGE_BUCKET", "CAPTION_STORAGE_ACCESS_KEY", "CAPTION_STORAGE_SECRET_KEY"):
        if any(ch.isspace() for ch in given[name]) or len(given[name]) > 1024:
            problems.append(f"{name} must be at most 1024 characters without whitespace")
    region_text = given["CAPTION_STORAGE_REGION"]
    endpoint = given["CAPTION_STORAGE_ENDPOINT"]
    storage_region: int = 0
    if vendor == S3_COMPATIBLE:
        # Agora: vendor 11 takes its region as a string in extensionParams, and storage.region 0.
        if not endpoint:
            problems.append("missing CAPTION_STORAGE_ENDPOINT: vendor 11 (S3-compatible) needs the storage's URL")
        elif urlsplit(endpoint).scheme not in ("http", "https") or not urlsplit(endpoint).netloc:
            problems.append("CAPTION_STORAGE_ENDPOINT must be a full http(s) URL, such as https://minio.example.com")
    else:
        if endpoint:
            problems.append("CAPTION_STORAGE_ENDPOINT is only for CAPTION_STORAGE_VENDOR=11 (S3-compatible)")
        if region_text:
            try:
                storage_region = int(region_text)
            except ValueError:
                storage_region = -1
            if storage_region < 0:
                problems.append(
                    "CAPTION_STORAGE_REGION must be the vendor's region code, an integer "
                    "(Amazon S3: 0 us-east-1, 1 us-east-2, ...; see Agora's Cloud Recording table)"
                )
    prefix = [folder for folder in given["CAPTION_STORAGE_FILE_PREFIX"].split("/") if folder]
    if len("/".join(prefix)) > MAX_FILE_PREFIX or not all(_FOLDER.fullmatch(folder) for folder in prefix):
        problems.append(
            f"CAPTION_STORAGE_FILE_PREFIX must be folder names of letters and digits separated by /, "
            f"at most {MAX_FILE_PREFIX} characters"
        )
    slice_duration = DEFAULT_SLICE_DURATION
    if given["CAPTION_STORAGE_SLICE_DURATION"]:
        try:
            slice_duration = _int_range(*SLICE_DURATION_RANGE)(given["CAPTION_STORAGE_SLICE_DURATION"])
        except ValueError as exc:
            problems.append(f"CAPTION_STORAGE_SLICE_DURATION {exc} (seconds)")
    if len(problems) > found:
        return None
    config: dict[str, Any] = {
        "sliceDuration": slice_duration,
        "storage": {
            "vendor": vendor,
            "region": storage_region,
            "bucket": given["CAPTION_STORAGE_BUCKET"],
            "accessKey": given["CAPTION_STORAGE_ACCESS_KEY"],
            "secretKey": given["CAPTION_STORAGE_SECRET_KEY"],
            "fileNamePrefix": prefix,
        },
    }
    if vendor == S3_COMPATIBLE:
        # Inside captionConfig, as the record-captions page and the 7.2.1 notes place it.
        extension: dict[str, Any] = {"endpoint": endpoint, "type": "s3", "region": region_text or "us-east-1"}
        if given["CAPTION_STORAGE_PROVIDER"]:
            extension["provider"] = given["CAPTION_STORAGE_PROVIDER"]
        config["extensionParams"] = extension
    return config


DEFAULTS.update(CAPTION_STORAGE_DEFAULTS)


# --- Transcripts: the caption files read back (api/rtt/transcripts.py) --------------------------

# Without CAPTION_STORAGE_*, the sandbox records into a folder of the instance directory
# (its embedded "bucket"), so that recordCaptions and transcripts work with zero configuration.
# The keys below are placeholders the emulator's checks accept; nothing ever uses them.
SANDBOX_CAPTION_STORAGE: dict[str, Any] = {
    "sliceDuration": 10,
    "storage": {
        "vendor": 1,
        "region": 0,
        "bucket": "sandbox-bucket",
        "accessKey": "sandbox-access-key",
        "secretKey": "sandbox-secret-key",
        "fileNamePrefix": ["captions"],
    },
}
DEFAULTS.update(
    {
        # Files still arrive this long after an agent leaves (Agora's backup path): until then a
        # transcript is "partial".
        "TRANSCRIPT_GRACE_SECONDS": 300,
        "CAPTION_BUCKET_DIR": None,  # None: bucket/ in the instance folder (sandbox without storage)
    }
)
_PARSERS["TRANSCRIPT_GRACE_SECONDS"] = _int_range(0, 86_400)


def _sandbox_caption_storage(settings: dict[str, Any]) -> None:
    """CAPTION_STORAGE_LOCAL: whether the sandbox's folder stands in for the storage (never set from outside)."""
    local = settings["AGORA_MODE"] == "sandbox" and settings["CAPTION_STORAGE"] is None
    if local:
        settings["CAPTION_STORAGE"] = SANDBOX_CAPTION_STORAGE
    settings["CAPTION_STORAGE_LOCAL"] = local


# --- Agora's notifications (NCS) and the task duration cap -----------------------------------
# NCS_SECRET is the product's Secret from Console > Notifications: a secret, never logged nor
# returned. Unset, POST /api/rtt/notifications.json answers 404.

NOTIFICATION_DEFAULTS: dict[str, Any] = {
    "NCS_SECRET": None,
    # A task older than this many seconds is stopped by the service; None: no cap.
    "MAX_TASK_SECONDS": None,
    # How often each worker's sweeper looks for tasks past the cap.
    "SWEEP_INTERVAL_SECONDS": 10.0,
    # Sandbox mode: the emulator posts signed 101/102 callbacks to the service (with NCS_SECRET,
    # or SANDBOX_NCS_SECRET when only this is set), to SANDBOX_NOTIFY_URL or the service's own URL.
    "SANDBOX_NOTIFICATIONS": False,
    "SANDBOX_NOTIFY_URL": None,
    # Deliver every notification twice, and each 101 after its agent's 102: what Agora may do.
    "SANDBOX_NOTIFY_DUPLICATES": False,
    "SANDBOX_NOTIFY_REORDER": False,
}
# The sandbox's NCS secret: fixed and clearly fake, like its project.
SANDBOX_NCS_SECRET = "sandbox-ncs-secret-not-a-real-one"


def _optional_text(value: Any) -> str | None:
    text = str(value or "").strip()
    if any(ch.isspace() for ch in text):
        raise ValueError("must not contain whitespace")  # never echo it: it is a secret
    return text or None


def _optional_seconds(value: Any) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    return _int_range(1, 2_592_000)(value)


def _sweep_interval(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("must be a number of seconds") from None
    if not 0.05 <= number <= 600:
        raise ValueError("must be between 0.05 and 600 seconds")
    return number


def _optional_url(value: Any) -> str | None:
    text = str(value or "").strip()
    return _base_url(text) if text else None


_PARSERS.update(
    {
        "NCS_SECRET": _optional_text,
        "MAX_TASK_SECONDS": _optional_seconds,
        "SWEEP_INTERVAL_SECONDS": _sweep_interval,
        "SANDBOX_NOTIFICATIONS": _bool,
        "SANDBOX_NOTIFY_URL": _optional_url,
        "SANDBOX_NOTIFY_DUPLICATES": _bool,
        "SANDBOX_NOTIFY_REORDER": _bool,
    }
)
DEFAULTS.update(NOTIFICATION_DEFAULTS)


def notifications_secret(settings: Mapping[str, Any]) -> str | None:
    """The secret notifications are signed with: NCS_SECRET, else the sandbox's when it sends them."""
    if settings.get("NCS_SECRET"):
        return settings["NCS_SECRET"]
    if settings.get("AGORA_MODE") == "sandbox" and settings.get("SANDBOX_NOTIFICATIONS"):
        return SANDBOX_NCS_SECRET
    return None


# Environment variables this service reads; anything else in the environment is ignored.
ENVIRONMENT_VARIABLES = {"AGORA_MODE", *AGORA_CREDENTIALS, *DEFAULTS}
