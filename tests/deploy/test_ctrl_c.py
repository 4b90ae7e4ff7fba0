"""Ctrl+C on the README's first command: gunicorn and its workers stop cleanly, in silence."""

import os
import signal

import pytest
import requests

from tests.servers import start_gunicorn

pytestmark = pytest.mark.e2e


def test_ctrl_c_stops_master_and_workers_without_a_traceback(tmp_path):
    server = start_gunicorn(tmp_path, workers=2, new_session=True)
    try:
        answer = requests.post(f"{server.url}/api/tokens.json", json={"channel": "demo", "uid": 1}, timeout=10)
        assert answer.status_code == 200
        # A terminal sends SIGINT to the whole foreground group: the master and every worker,
        # which then also hear from the master.
        os.killpg(server.process.pid, signal.SIGINT)
        assert server.process.wait(timeout=30) == 0, server.log()
    finally:
        server.stop()
    log = server.log()
    assert "Shutting down: Master" in log
    assert "Traceback" not in log, log
