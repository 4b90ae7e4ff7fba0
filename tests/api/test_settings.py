"""Settings are validated once, in create_app, and a bad one stops start-up naming it."""

import pytest

from api import ConfigError, create_app
from api.settings import SANDBOX_CREDENTIALS
from tests.conftest import LIVE


def test_no_credentials_at_all_means_the_sandbox(tmp_path):
    app = create_app({"SANDBOX_DB": str(tmp_path / "s.sqlite3")})
    assert app.config["AGORA_MODE"] == "sandbox"
    assert app.config["APP_ID"] == SANDBOX_CREDENTIALS["APP_ID"]


def test_all_four_credentials_mean_live():
    assert create_app(LIVE).config["AGORA_MODE"] == "live"


@pytest.mark.parametrize("missing", ["APP_ID", "APP_CERTIFICATE", "CUSTOMER_ID", "CUSTOMER_SECRET"])
def test_a_partial_configuration_refuses_to_start_and_names_what_is_missing(missing):
    config = {key: value for key, value in LIVE.items() if key != missing}
    with pytest.raises(ConfigError) as failure:
        create_app(config)
    assert f"missing {missing}" in str(failure.value)


def test_all_missing_names_are_listed_at_once():
    with pytest.raises(ConfigError) as failure:
        create_app({"APP_ID": LIVE["APP_ID"]})
    assert "missing APP_CERTIFICATE, CUSTOMER_ID, CUSTOMER_SECRET" in str(failure.value)


def test_partial_configuration_from_the_environment_also_refuses(monkeypatch):
    monkeypatch.setenv("CUSTOMER_ID", "someone")
    with pytest.raises(ConfigError, match="missing APP_ID, APP_CERTIFICATE, CUSTOMER_SECRET"):
        create_app()


def test_live_mode_without_credentials_refuses():
    with pytest.raises(ConfigError, match="missing APP_ID, APP_CERTIFICATE, CUSTOMER_ID, CUSTOMER_SECRET"):
        create_app({"AGORA_MODE": "live"})


def test_sandbox_mode_can_be_forced_over_credentials(tmp_path):
    app = create_app({**LIVE, "AGORA_MODE": "sandbox", "SANDBOX_DB": str(tmp_path / "s.sqlite3")})
    assert app.config["AGORA_MODE"] == "sandbox"
    assert app.config["CUSTOMER_SECRET"] == SANDBOX_CREDENTIALS["CUSTOMER_SECRET"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"APP_ID": "not-hex-" + "0" * 24}, "APP_ID must be 32 hexadecimal characters"),
        ({"APP_ID": "abc"}, "APP_ID must be 32 hexadecimal characters (it has 3 characters)"),
        ({"APP_CERTIFICATE": "z" * 32}, "APP_CERTIFICATE must be 32 hexadecimal characters"),
        ({"CUSTOMER_ID": "a:b"}, "CUSTOMER_ID must not contain ':'"),
        ({"CUSTOMER_SECRET": "two words"}, "CUSTOMER_SECRET must not contain whitespace"),
        ({"AGORA_API_BASE_URL": "ftp://api.agora.io"}, "AGORA_API_BASE_URL must be an http(s) URL"),
        ({"AGORA_API_BASE_URL": "api.agora.io"}, "AGORA_API_BASE_URL must be an http(s) URL"),
        ({"AGORA_READ_TIMEOUT": "soon"}, "AGORA_READ_TIMEOUT must be a number of seconds"),
        ({"AGORA_MODE": "prod"}, "AGORA_MODE must be 'sandbox', 'live' or unset"),
        ({"MAX_CONTENT_LENGTH": "10"}, "MAX_CONTENT_LENGTH must be an integer from 1024"),
        ({"RATELIMIT_ENABLED": "maybe"}, "RATELIMIT_ENABLED must be true or false"),
        ({"CHANNEL_PATTERN": "("}, "CHANNEL_PATTERN is not a valid regular expression"),
        ({"RATELIMIT_TOKENS": "lots"}, "RATELIMIT_TOKENS must be a rate limit"),
        ({"TOKEN_VERSION": "7"}, 'TOKEN_VERSION must be "007" (AccessToken2) or "006" (legacy)'),
        ({"TOKEN_VERSION": "AccessToken2"}, 'TOKEN_VERSION must be "007" (AccessToken2) or "006" (legacy)'),
        ({"DEMO_TOKEN_SECONDS": "59"}, "DEMO_TOKEN_SECONDS must be an integer from 60 to 86400"),
        ({"DEMO_TOKEN_SECONDS": "86401"}, "DEMO_TOKEN_SECONDS must be an integer from 60 to 86400"),
        ({"DEMO_TOKEN_SECONDS": "an hour"}, "DEMO_TOKEN_SECONDS must be an integer from 60 to 86400"),
    ],
)
def test_malformed_settings_are_named(override, message):
    with pytest.raises(ConfigError) as failure:
        create_app({**LIVE, **override})
    assert message in str(failure.value)


def test_errors_never_echo_secret_values():
    secret = "S3cretValueThatMustNotLeak000000"
    with pytest.raises(ConfigError) as failure:
        create_app({**LIVE, "APP_CERTIFICATE": secret + "!", "CUSTOMER_SECRET": "has space " + secret})
    assert secret not in str(failure.value)


def test_surrounding_whitespace_is_forgiven():
    app = create_app({**LIVE, "APP_ID": f"  {LIVE['APP_ID']}\n"})
    assert app.config["APP_ID"] == LIVE["APP_ID"]


def test_base_url_loses_its_trailing_slash():
    assert create_app({**LIVE, "AGORA_API_BASE_URL": "http://127.0.0.1:9000/"}).config["AGORA_API_BASE_URL"] == (
        "http://127.0.0.1:9000"
    )


def test_token_settings_default_to_007_and_an_hour():
    config = create_app(LIVE).config
    assert (config["TOKEN_VERSION"], config["DEMO_TOKEN_SECONDS"]) == ("007", 3600)


def test_token_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TOKEN_VERSION", " 006 ")
    monkeypatch.setenv("DEMO_TOKEN_SECONDS", "600")
    config = create_app(LIVE).config
    assert (config["TOKEN_VERSION"], config["DEMO_TOKEN_SECONDS"]) == ("006", 600)
