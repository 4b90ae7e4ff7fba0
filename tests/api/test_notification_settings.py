"""NCS_SECRET, the duration cap and the sandbox's notifications: parsed once, secrets never echoed."""

import pytest

from api.settings import SANDBOX_NCS_SECRET, ConfigError, load_settings, notifications_secret
from tests.conftest import LIVE


def test_defaults_leave_notifications_off_and_no_cap():
    settings = load_settings({}, LIVE)
    assert (settings["NCS_SECRET"], settings["MAX_TASK_SECONDS"], settings["SWEEP_INTERVAL_SECONDS"]) == (
        None,
        None,
        10.0,
    )
    assert notifications_secret(settings) is None


def test_a_malformed_secret_is_refused_without_being_echoed():
    with pytest.raises(ConfigError) as caught:
        load_settings({"NCS_SECRET": "abc def-hidden"}, LIVE)
    assert "NCS_SECRET must not contain whitespace" in str(caught.value)
    assert "hidden" not in str(caught.value)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"NCS_SECRET": "mine"}, "mine"),
        ({"SANDBOX_NOTIFICATIONS": "true"}, SANDBOX_NCS_SECRET),
        ({"SANDBOX_NOTIFICATIONS": "true", "NCS_SECRET": "mine"}, "mine"),
        ({"SANDBOX_NOTIFICATIONS": "false"}, None),
    ],
)
def test_the_secret_notifications_are_signed_with_in_sandbox_mode(environ, expected):
    assert notifications_secret(load_settings(environ)) == expected


def test_the_sandbox_secret_is_never_used_in_live_mode():
    assert notifications_secret(load_settings({"SANDBOX_NOTIFICATIONS": "true"}, LIVE)) is None


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("MAX_TASK_SECONDS", "0", "MAX_TASK_SECONDS must be an integer from 1 to 2592000"),
        ("SWEEP_INTERVAL_SECONDS", "601", "SWEEP_INTERVAL_SECONDS must be between 0.05 and 600 seconds"),
        ("SANDBOX_NOTIFY_URL", "ftp://x", "SANDBOX_NOTIFY_URL must be an http(s) URL"),
        ("SANDBOX_NOTIFY_REORDER", "maybe", "SANDBOX_NOTIFY_REORDER must be true or false"),
    ],
)
def test_each_setting_names_its_rule(name, value, rule):
    with pytest.raises(ConfigError, match=rule.replace("(", r"\(").replace(")", r"\)")):
        load_settings({name: value}, LIVE)
