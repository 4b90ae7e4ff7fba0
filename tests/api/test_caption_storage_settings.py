"""CAPTION_STORAGE_* are checked at start-up: each bad one is named, and a key's value never is."""

import pytest

from api import ConfigError, create_app
from tests.api.rtt.test_options import MINIO, S3
from tests.conftest import LIVE


def config_error(settings):
    with pytest.raises(ConfigError) as failure:
        create_app({**LIVE, **settings})
    return str(failure.value)


def test_no_storage_settings_mean_no_caption_storage():
    assert create_app(LIVE).config["CAPTION_STORAGE"] is None


def test_storage_is_read_from_the_environment(monkeypatch):
    for name, value in {**LIVE, **MINIO}.items():
        monkeypatch.setenv(name, value)
    storage = create_app().config["CAPTION_STORAGE"]
    assert storage["storage"]["bucket"] == "captions"
    assert storage["extensionParams"]["endpoint"] == "https://minio.example.com:9000"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"CAPTION_STORAGE_BUCKET": ""}, "missing CAPTION_STORAGE_BUCKET"),
        ({"CAPTION_STORAGE_ACCESS_KEY": ""}, "missing CAPTION_STORAGE_ACCESS_KEY"),
        ({"CAPTION_STORAGE_SECRET_KEY": ""}, "missing CAPTION_STORAGE_SECRET_KEY"),
        ({"CAPTION_STORAGE_VENDOR": ""}, "missing CAPTION_STORAGE_VENDOR"),
        ({"CAPTION_STORAGE_VENDOR": "4"}, "CAPTION_STORAGE_VENDOR must be one of"),
        ({"CAPTION_STORAGE_VENDOR": "s3"}, "CAPTION_STORAGE_VENDOR must be one of"),
        ({"CAPTION_STORAGE_REGION": "us-east-1"}, "CAPTION_STORAGE_REGION must be the vendor's region code"),
        ({"CAPTION_STORAGE_FILE_PREFIX": "calls/2026-11"}, "CAPTION_STORAGE_FILE_PREFIX must be folder names"),
        ({"CAPTION_STORAGE_FILE_PREFIX": "a" * 129}, "at most 128 characters"),
        ({"CAPTION_STORAGE_SLICE_DURATION": "4"}, "CAPTION_STORAGE_SLICE_DURATION must be an integer from 5 to 28800"),
        ({"CAPTION_STORAGE_SLICE_DURATION": "28801"}, "CAPTION_STORAGE_SLICE_DURATION must be an integer from 5"),
        ({"CAPTION_STORAGE_ENDPOINT": "https://minio.example.com"}, "CAPTION_STORAGE_ENDPOINT is only for"),
        ({"CAPTION_STORAGE_SECRET_KEY": "has space"}, "CAPTION_STORAGE_SECRET_KEY must be at most"),
    ],
)
def test_a_bad_storage_setting_stops_start_up_naming_it(change, named):
    message = config_error({**S3, **change})
    assert named in message
    assert S3["CAPTION_STORAGE_SECRET_KEY"] not in message and S3["CAPTION_STORAGE_ACCESS_KEY"] not in message


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"CAPTION_STORAGE_ENDPOINT": ""}, "missing CAPTION_STORAGE_ENDPOINT"),
        ({"CAPTION_STORAGE_ENDPOINT": "minio:9000"}, "CAPTION_STORAGE_ENDPOINT must be a full http(s) URL"),
    ],
)
def test_s3_compatible_storage_needs_its_endpoint(change, named):
    assert named in config_error({**MINIO, **change})


def test_a_partial_storage_names_every_missing_setting_at_once():
    message = config_error({"CAPTION_STORAGE_BUCKET": "b"})
    for name in ("CAPTION_STORAGE_VENDOR", "CAPTION_STORAGE_ACCESS_KEY", "CAPTION_STORAGE_SECRET_KEY"):
        assert f"missing {name}" in message


@pytest.mark.parametrize("slice_duration", ["5", "28800"])
def test_slice_duration_at_its_limits_is_kept(slice_duration):
    app = create_app({**LIVE, **S3, "CAPTION_STORAGE_SLICE_DURATION": slice_duration})
    assert app.config["CAPTION_STORAGE"]["sliceDuration"] == int(slice_duration)
