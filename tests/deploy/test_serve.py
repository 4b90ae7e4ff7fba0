"""deploy/serve as a process: it stops cleanly, and never leaves half of itself running."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.deploy.conftest import SERVE, children_of, require_nginx, serve_environment, start_serve

pytestmark = pytest.mark.e2e


def gone(pid: int) -> bool:
    """Whether `pid` has exited (a zombie counts: it no longer runs)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_sigint_stops_nginx_and_gunicorn_and_frees_the_port(tmp_path):
    served = start_serve(tmp_path)
    pids = [served.nginx_master(), served.gunicorn_master(), *served.gunicorn_workers()]
    assert served.stop(signal.SIGINT) == 0, served.log()
    assert all(gone(pid) for pid in pids)
    assert refused(served.port)
    assert "SIGINT: stopping nginx and gunicorn" in served.log()


def test_a_request_in_progress_finishes_before_sigterm_stops_the_service(tmp_path):
    served = start_serve(tmp_path)
    requests.post(f"{served.url}/sandbox/faults", json={"op": "join", "delay": 1.5}, timeout=5)
    answers = []
    caller = threading.Thread(
        target=lambda: answers.append(
            requests.post(f"{served.url}/api/rtt/start.json", json={"channel": "last"}, timeout=20)
        )
    )
    caller.start()
    with sqlite3.connect(served.sandbox_db) as db:  # the fault is used up once the request is in a worker
        deadline = time.monotonic() + 10
        while db.execute("SELECT count(*) FROM faults").fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert served.stop(signal.SIGTERM) == 0, served.log()
    caller.join()
    assert answers[0].status_code == 200, answers[0].text
    assert answers[0].json()["status"] == "STARTING"


@pytest.mark.parametrize("victim", ["gunicorn", "nginx"])
def test_when_one_dies_the_other_is_stopped_and_serve_fails(tmp_path, victim):
    served = start_serve(tmp_path)
    survivor = served.nginx_master() if victim == "gunicorn" else served.gunicorn_master()
    killed = served.gunicorn_master() if victim == "gunicorn" else served.nginx_master()
    orphans = children_of(killed)  # the killed master's workers, which SIGKILL leaves running
    assert orphans
    os.kill(killed, signal.SIGKILL)
    assert served.process.wait(timeout=45) == 1
    assert gone(survivor)
    assert all(gone(pid) for pid in orphans), "a killed master's workers outlived deploy/serve"
    assert f"{victim} exited with -9: stopping the rest" in served.log()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MAX_CONTENT_LENGTH": "12"}, "MAX_CONTENT_LENGTH must be an integer from 1024"),
        ({"BIND": "0.0.0.0:80;"}, "BIND/PORT must be"),
        ({"NGINX_CLIENT_TIMEOUT": "0"}, "NGINX_CLIENT_TIMEOUT must be a positive whole number"),
    ],
)
def test_a_bad_setting_stops_serve_before_anything_starts(tmp_path, env, named):
    require_nginx()
    result = subprocess.run(
        [sys.executable, str(SERVE)], env=serve_environment(tmp_path, env), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "Configuration error, not starting:" in result.stderr
    assert named in result.stderr
