"""Real servers for end-to-end tests: the service under gunicorn, on a free port."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from api.settings import ENVIRONMENT_VARIABLES

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path
    _offset: int = field(default=0)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pids_by_request_id(self, expected: set[str] = frozenset()) -> dict[str, str]:
        """From gunicorn's access log: which worker served each request id (waiting for `expected`)."""
        deadline = time.monotonic() + 5
        while True:
            found = dict((rid, pid) for pid, rid in re.findall(r"pid=<?(\d+)>? request_id=(\S+)", self.log()))
            if expected <= found.keys() or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_gunicorn(
    tmp_path: Path,
    env: dict[str, str] | None = None,
    workers: int = 3,
    threads: int = 16,
    args: list[str] | None = None,
) -> Server:
    """gunicorn with the project's gunicorn.conf.py, from the project's folder, in a clean environment."""
    port = free_port()
    clean = {key: value for key, value in os.environ.items() if key not in ENVIRONMENT_VARIABLES}
    clean.update({"SANDBOX_DB": str(tmp_path / "sandbox.sqlite3"), "PYTHONUNBUFFERED": "1"})
    clean.update(env or {})
    log_path = tmp_path / f"gunicorn-{port}.log"
    with log_path.open("w") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(workers),
                "--threads",
                str(threads),
                *(args or []),
            ],
            cwd=ROOT,
            env=clean,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            if requests.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                _wait_for_workers(server, workers)
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer within 30 s:\n{server.log()}")


def _wait_for_workers(server: Server, workers: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and server.log().count("Booting worker") < workers:
        time.sleep(0.1)
    time.sleep(0.5)  # the last worker has booted; let it finish building its app
