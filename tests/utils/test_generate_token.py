"""generate_token picks the format; every token it makes is decoded and its signature recomputed."""

import ast
import time
from pathlib import Path

import pytest

from tests import token007
from tests.conftest import LIVE
from tests.tokens import PUBLISHER_PRIVILEGES, SUBSCRIBER_PRIVILEGES, assert_token
from utils.generate_token import generate_token

ROOT = Path(__file__).resolve().parents[2]


def make(*args, **kwargs):
    return generate_token(LIVE["APP_ID"], LIVE["APP_CERTIFICATE"], *args, **kwargs)


@pytest.mark.parametrize("version", ["007", "006"])
@pytest.mark.parametrize(
    ("role", "privileges"), [("publisher", PUBLISHER_PRIVILEGES), ("subscriber", SUBSCRIBER_PRIVILEGES)]
)
def test_both_versions_carry_the_roles_privileges_until_the_same_moment(version, role, privileges):
    before = int(time.time())
    generated = make("demo", 42, role, 120, version=version)
    assert generated.version == version and generated.token.startswith(version)
    assert before + 120 <= generated.expires_at <= int(time.time()) + 120
    assert_token(generated.token, channel="demo", uid=42, privileges=privileges, expires_at=generated.expires_at)


def test_007_is_the_default_and_its_token_and_privileges_expire_together():
    generated = make("demo", 42, "publisher", 900)
    decoded = token007.decode(generated.token)
    assert generated.version == "007"
    assert decoded.issue_ts + decoded.expire == generated.expires_at
    assert set(decoded.services[token007.RTC].privileges.values()) == {900}


def test_rtm_joins_rtc_in_one_007_token():
    generated = make("demo", 42, "subscriber", 60, rtm_user_id="alice")
    assert_token(
        generated.token,
        channel="demo",
        uid=42,
        privileges=SUBSCRIBER_PRIVILEGES,
        expires_at=generated.expires_at,
        rtm_user_id="alice",
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"version": "006", "rtm_user_id": "alice"}, "Signaling needs 007"),
        ({"version": "008"}, "version must be one of"),
        ({"role": "admin"}, "role must be one of"),
    ],
)
def test_impossible_requests_are_refused(kwargs, message):
    role = kwargs.pop("role", "publisher")
    with pytest.raises(ValueError, match=message):
        make("demo", 42, role, 60, **kwargs)


def test_helpers_know_no_routes():
    """No module under utils/ imports from api/: the routes use the helpers, never the reverse."""
    offenders = []
    for path in sorted((ROOT / "utils").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {name}" for name in names if name == "api" or name.startswith("api.")]
    assert offenders == []
