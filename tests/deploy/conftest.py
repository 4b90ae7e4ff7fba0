"""deploy/serve started for real: Debian's nginx in front of gunicorn, on a free loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from api.settings import ENVIRONMENT_VARIABLES
from tests.servers import ROOT, free_port

SERVE = ROOT / "deploy" / "serve"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
# What deploy/serve and gunicorn.conf.py read besides the service's settings: a developer's
# exported values must not change what these tests start.
_SERVE_VARIABLES = {"BIND", "PORT", "WEB_CONCURRENCY", "ACCESS_LOG", "FORWARDED_ALLOW_IPS"}


def require_nginx() -> str:
    """nginx's path; a missing nginx skips the test, except under CI, where it fails it."""
    if NGINX:
        return NGINX
    if os.environ.get("CI"):
        pytest.fail("nginx is missing: .ci/run installs it (apt-get install nginx)")
    pytest.skip("nginx is missing (apt-get install nginx); under CI (CI=true) this fails instead of skipping")


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path
    sandbox_db: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def gunicorn_master(self) -> int:
        return next(pid for pid in children_of(self.process.pid) if b"gunicorn" in _cmdline(pid))

    def nginx_master(self) -> int:
        return next(pid for pid in children_of(self.process.pid) if b"nginx" in _cmdline(pid))

    def gunicorn_workers(self) -> list[int]:
        return children_of(self.gunicorn_master())

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def serve_environment(tmp_path: Path, env: dict[str, str] | None) -> dict[str, str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ENVIRONMENT_VARIABLES
        and key not in _SERVE_VARIABLES
        and not key.startswith(("GUNICORN_", "NGINX_"))
    }
    clean.update({"SANDBOX_DB": str(tmp_path / "sandbox.sqlite3"), "PYTHONUNBUFFERED": "1"})
    clean.update(env or {})
    return clean


def start_serve(
    tmp_path: Path, env: dict[str, str] | None = None, scheme: str = "http", ca: Path | None = None
) -> Served:
    """`deploy/serve` as the README runs it, listening on 127.0.0.1 only; returns once it answers."""
    require_nginx()
    port = free_port()
    environ = serve_environment(tmp_path, {"BIND": f"127.0.0.1:{port}", **(env or {})})
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, str(SERVE)], cwd=tmp_path, env=environ, stdout=log, stderr=subprocess.STDOUT
        )
    served = Served(f"{scheme}://127.0.0.1:{port}", port, process, log_path, tmp_path / "sandbox.sqlite3")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"deploy/serve exited with {process.returncode}:\n{served.log()}")
        try:
            if requests.get(f"{served.url}/healthz", timeout=5, verify=ca or True).status_code == 200:
                return served
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or workers still booting
            pass
        time.sleep(0.1)
    served.stop()
    raise RuntimeError(f"deploy/serve did not answer within 30 s:\n{served.log()}")


def children_of(pid: int) -> list[int]:
    try:
        threads = Path(f"/proc/{pid}/task").iterdir()
        return sorted(int(child) for task in threads for child in (task / "children").read_text().split())
    except OSError:
        return []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
