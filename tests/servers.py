"""Real servers for end-to-end tests: the service under gunicorn, on a free port."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from api.settings import ENVIRONMENT_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
# Booting takes a second or two; a machine whose cores are all busy can take many times that.
BOOT_SECONDS = 60.0


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
        deadline = time.monotonic() + 30  # the access log is flushed in batches; a busy machine is slow
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
    new_session: bool = False,
) -> Server:
    """gunicorn with the project's gunicorn.conf.py, from the project's folder, in a clean environment.

    `new_session`: in a process group of its own, as a terminal's foreground job is (Ctrl+C
    signals the whole group).
    """
    port = free_port()
    clean = {key: value for key, value in os.environ.items() if key not in ENVIRONMENT_VARIABLES}
    clean.update(
        {
            "SANDBOX_DB": str(tmp_path / "sandbox.sqlite3"),
            "STATE_DB": str(tmp_path / "state.sqlite3"),
            "PYTHONUNBUFFERED": "1",
        }
    )
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
            start_new_session=new_session,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_until_ready(server, workers)
    except BaseException:
        server.stop()
        raise
    return server


def wait_until_ready(server: Server, workers: int, seconds: float = BOOT_SECONDS) -> None:
    """Poll until /healthz answers and every worker has built its app; fail with the log after `seconds`."""
    deadline = time.monotonic() + seconds
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log()}")
        try:
            answered = requests.get(f"{server.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException as exc:  # refused, reset, or a read timeout while workers boot
            answered, last_error = False, f"{type(exc).__name__}: {exc}"
        # gunicorn.conf.py's post_worker_init logs this line once a worker's app is built.
        if answered and server.log().count("Worker ready") >= workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn was not ready within {seconds:.0f} s ({last_error}):\n{server.log()}")


@dataclass
class RedisServer:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def start_redis(tmp_path: Path, seconds: float = 20.0) -> RedisServer:
    """A real redis-server on a free port, without persistence, for the tests that need one."""
    import redis

    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError("redis-server is missing: apt-get install redis-server")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    server = RedisServer(f"redis://127.0.0.1:{port}/0", process)
    client = redis.Redis.from_url(server.url, socket_connect_timeout=1)
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.ping()
            client.close()
            return server
        except redis.RedisError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"redis-server did not answer on port {port} within {seconds:.0f} s") from None
            time.sleep(0.05)


@dataclass
class MotoServer:
    """moto's S3-compatible server: a real HTTP endpoint that boto3 (and the sandbox) talk to."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_moto(tmp_path: Path, seconds: float = 30.0, *, check_keys: bool = False) -> MotoServer:
    """`python -m moto.server` on a free port, polled until it answers (at most `seconds`).

    `check_keys`: every call is authenticated against moto's IAM, so unknown keys are refused.
    """
    port = free_port()
    log_path = tmp_path / f"moto-{port}.log"
    env = {**os.environ, **({"INITIAL_NO_AUTH_ACTION_COUNT": "0"} if check_keys else {})}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = MotoServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(f"{server.url}/moto-api/", timeout=2).status_code < 500:
                return server
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"moto did not answer on port {port} within {seconds:.0f} s:\n{log_path.read_text()}")
        time.sleep(0.05)


@contextmanager
def emulator_over_http(store, *, latency: float = 0.0, notifier=None):
    """The sandbox's Agora emulator (sandbox project credentials) served over HTTP on a free port."""
    from api.settings import SANDBOX_CREDENTIALS
    from sandbox.emulator import create_emulator
    from sandbox.server import serve

    credentials = {key.lower(): value for key, value in SANDBOX_CREDENTIALS.items()}
    extra = {"notifier": notifier} if notifier is not None else {}
    server = serve(create_emulator(store, **credentials, **extra), "127.0.0.1", 0, latency=latency)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.store = store
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def live_env(emulator, **extra: str) -> dict[str, str]:
    """The service's settings for live mode against `emulator`, rate limits off."""
    from api.settings import SANDBOX_CREDENTIALS

    return {
        **SANDBOX_CREDENTIALS,
        "AGORA_MODE": "live",
        "AGORA_API_BASE_URL": f"http://127.0.0.1:{emulator.server_port}",
        "RATELIMIT_ENABLED": "false",
        **extra,
    }
