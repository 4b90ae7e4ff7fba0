"""The access log gunicorn.conf.py installs: one line per request, buffered, nothing lost at exit."""

import logging
import os
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from api.access_log import AccessLogger
from api.request_id import ENVIRON_KEY


def make_logger(tmp_path):
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    return AccessLogger(config)


def answer(status="200 OK"):
    return SimpleNamespace(status=status, sent=266)


def environ(request_id):
    return {**ENVIRON, ENVIRON_KEY: request_id}


ENVIRON = {
    "REMOTE_ADDR": "10.0.0.9",
    "REQUEST_METHOD": "POST",
    "RAW_URI": "/api/tokens.json?x=1",
    "SERVER_PROTOCOL": "HTTP/1.1",
}


def test_lines_carry_pid_and_request_id_and_are_written_on_flush(tmp_path):
    logger = make_logger(tmp_path)
    logger.access(answer(), None, environ("rid-1"), timedelta(milliseconds=12, microseconds=400))
    logger.access(answer("404 NOT FOUND"), None, environ("rid-2"), timedelta(seconds=1, milliseconds=5))
    logger.flush_access_log()
    for handler in logging.getLogger("gunicorn.access").handlers:
        handler.close()
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert lines == [
        f'10.0.0.9 "POST /api/tokens.json?x=1 HTTP/1.1" 200 266 12ms pid={os.getpid()} request_id=rid-1',
        f'10.0.0.9 "POST /api/tokens.json?x=1 HTTP/1.1" 404 266 1005ms pid={os.getpid()} request_id=rid-2',
    ]


def test_nothing_is_queued_when_the_access_log_is_off():
    logger = AccessLogger(Config())
    logger.access(answer(), None, ENVIRON, timedelta(milliseconds=1))
    assert not logger._pending


def test_a_format_the_user_sets_is_honoured(tmp_path):
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("access_log_format", "%(s)s %(m)s %(U)s pid=%(p)s")
    logger = AccessLogger(config)
    request = SimpleNamespace(headers=[], method="POST", path="/api/tokens.json", query="", uri="/api/tokens.json")
    env = {**environ("rid-9"), "PATH_INFO": "/api/tokens.json", "QUERY_STRING": ""}
    logger.access(SimpleNamespace(status="201 CREATED", sent=3, headers=[]), request, env, timedelta(milliseconds=2))
    for handler in logging.getLogger("gunicorn.access").handlers:
        handler.close()
    assert (tmp_path / "access.log").read_text().splitlines() == [f"201 POST /api/tokens.json pid=<{os.getpid()}>"]
    assert not logger._pending
