"""deploy/nginx_conf.py: the numbers nginx gets, and the configuration nginx accepts."""

import json
import re
import subprocess

import pytest

from api.settings import load_settings
from deploy.nginx_conf import (
    ERROR_PAGES,
    agora_wait_budget,
    compute_limits,
    error_log_level,
    listen_address,
    render,
)
from tests.deploy.conftest import require_nginx

GUNICORN = {"workers": 2, "worker_connections": 128}
# What the issue lists, what a static file can get (403, 404, 405), plain HTTP on the HTTPS port
# (497), and what nginx does not implement (501, 505).
NGINX_OWN_ERRORS = {400, 403, 404, 405, 408, 413, 414, 429, 431, 494, 497, 500, 501, 502, 503, 504, 505}


def limits_for(environ):
    return compute_limits(load_settings(environ), GUNICORN, environ)


@pytest.fixture
def rendered(tmp_path):
    limits = limits_for({"MAX_CONTENT_LENGTH": "32768"})
    path = render(
        tmp_path, tmp_path / "g.sock", "127.0.0.1:8080", limits, access_log=True, as_root=False, error_level="warn"
    )
    return path.read_text(), tmp_path


def directive(text, name):
    return re.findall(rf"^\s*{name} ([^;]+);", text, re.MULTILINE)


def test_the_body_limit_is_the_services(rendered):
    text, _ = rendered
    assert directive(text, "client_max_body_size") == ["32768"]
    assert directive(text, "client_body_buffer_size") == ["32768"]


def test_nginx_waits_longer_than_a_call_may_wait_on_agora():
    settings = load_settings({"AGORA_CONNECT_TIMEOUT": "2", "AGORA_READ_TIMEOUT": "20"})
    # make_request's policy: 3 attempts, 2 waits of at most 2 s between them.
    assert agora_wait_budget(settings) == 3 * 22 + 2 * 2
    limits = compute_limits(settings, GUNICORN, {})
    assert limits.proxy_read_timeout == 75


def test_every_error_nginx_answers_has_a_json_page(rendered):
    text, runtime = rendered
    pages = dict(re.findall(r"error_page (\d+) (?:=\d+ )?(/_errors/\d+\.json);", text))
    assert set(map(int, pages)) == NGINX_OWN_ERRORS == set(ERROR_PAGES)
    assert "error_page 494 =431 /_errors/431.json;" in text
    assert "error_page 497 =400 /_errors/497.json;" in text
    for page in set(pages.values()):
        body = json.loads((runtime / page.lstrip("/")).read_text())
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "message"}
        assert body["error"]["message"].endswith(".")
    assert json.loads((runtime / "_errors/413.json").read_text())["error"] == {
        "code": "payload_too_large",
        "message": "The request body is larger than 32768 bytes.",
    }


def test_the_service_errors_are_not_intercepted(rendered):
    text, _ = rendered
    assert directive(text, "proxy_intercept_errors") == []  # off, nginx's default


def test_nginx_accepts_the_configuration(rendered):
    nginx = require_nginx()
    _, runtime = rendered
    checked = subprocess.run(
        [nginx, "-t", "-q", "-p", str(runtime), "-c", str(runtime / "nginx.conf"), "-e", "stderr"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_a_root_start_drops_nginx_workers_to_a_web_user(tmp_path):
    path = render(
        tmp_path, tmp_path / "g.sock", "8080", limits_for({}), access_log=False, as_root=True, error_level="warn"
    )
    text = path.read_text()
    assert directive(text, "user") in (["www-data"], ["nobody"])
    assert directive(text, "access_log") == ["off"]


def test_nginx_can_hold_all_gunicorn_can_queue_and_no_more():
    limits = limits_for({})
    # 2 workers x 128 connections, and the socket's queue (2048, or less if the kernel says so)
    capacity = (limits.worker_connections - 4096) // 2
    assert 256 < capacity <= 256 + 2048
    assert limits.connections_per_client == capacity - 256  # another client always gets in


@pytest.mark.parametrize(
    ("environ", "listen"),
    [
        ({}, "0.0.0.0:8080"),
        ({"PORT": "9000"}, "0.0.0.0:9000"),
        ({"PORT": "9000", "BIND": "127.0.0.1:8001"}, "127.0.0.1:8001"),
        ({"BIND": "[::1]:8001"}, "[::1]:8001"),
        ({"BIND": "unix:/run/agora.sock"}, "unix:/run/agora.sock"),
    ],
)
def test_the_listen_address_comes_from_bind_or_port(environ, listen):
    assert listen_address(environ) == listen


@pytest.mark.parametrize("bind", ["127.0.0.1:80; include /etc/passwd", "host port", "http://x:80"])
def test_a_bind_that_is_not_an_address_is_refused(bind):
    with pytest.raises(ValueError, match="BIND/PORT must be"):
        listen_address({"BIND": bind})


@pytest.mark.parametrize("name", ["NGINX_CLIENT_TIMEOUT", "NGINX_CONNECTIONS_PER_CLIENT", "NGINX_PROXY_READ_TIMEOUT"])
@pytest.mark.parametrize("value", ["0", "-1", "ten", "1.5"])
def test_nginx_settings_must_be_positive_whole_numbers(name, value):
    with pytest.raises(ValueError, match=f"{name} must be a positive whole number"):
        limits_for({name: value})


def test_the_error_log_level_is_one_nginx_knows():
    assert error_log_level({}) == "warn"
    assert error_log_level({"NGINX_ERROR_LOG_LEVEL": "INFO"}) == "info"
    with pytest.raises(ValueError, match="NGINX_ERROR_LOG_LEVEL must be one of debug, info"):
        error_log_level({"NGINX_ERROR_LOG_LEVEL": "warn; include /etc/passwd"})
