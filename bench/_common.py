"""What the benchmarks share: starting servers, driving wrk, paired runs, and the table.

Absolute figures on a shared 2-core machine are noise; what a target is stated in is the
ratio to a baseline measured in the same run. So each measurement alternates the two
servers in short paired runs and reports the median of the per-pair ratios.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
sys.path.insert(0, str(ROOT))

from api.settings import ENVIRONMENT_VARIABLES  # noqa: E402
from api.settings import SANDBOX_CREDENTIALS as SANDBOX  # noqa: E402
from sandbox.store import SandboxStore  # noqa: E402
from tests.servers import free_port  # noqa: E402

# The service's settings, and gunicorn.conf.py's, are not inherited from the shell: a stray
# WEB_CONCURRENCY or API_KEYS would change what is measured.
_SERVICE_ENV = {*ENVIRONMENT_VARIABLES, "WEB_CONCURRENCY", "BIND", "PORT", "ACCESS_LOG", "FORWARDED_ALLOW_IPS"}


@dataclass
class Process:
    name: str
    url: str
    popen: subprocess.Popen
    db: str | None = None  # the emulator's SQLite file: what it has joined, for a bench to count

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()

    def worker_pids(self) -> list[int]:
        """gunicorn's workers: the children of its master."""
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.popen.pid:
                    children.append(int(entry.name))
        return sorted(children)


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _SERVICE_ENV and not key.startswith("GUNICORN_")  # gunicorn.conf.py's and gunicorn's own
    }
    env.update(extra)
    return env


def start_process(
    name: str, argv: list[str], cwd: Path, env: dict[str, str], url: str, ready_path: str, db: str | None = None
) -> Process:
    OUT.mkdir(exist_ok=True)
    with (OUT / f"{name}.log").open("w") as log:
        popen = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    process = Process(name, url, popen, db)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise SystemExit(f"{name} exited: see {OUT / (name + '.log')}")
        try:
            requests.get(url + ready_path, timeout=1)
            time.sleep(1.0)  # let every worker finish booting
            return process
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or workers still booting
            time.sleep(0.1)
    process.stop()
    raise SystemExit(f"{name} did not start: see {OUT / (name + '.log')}")


def gunicorn_shape() -> dict[str, str]:
    """The worker shape gunicorn.conf.py chooses, for the baseline to copy."""
    code = (
        "import runpy, json; c = runpy.run_path('gunicorn.conf.py');"
        "print(json.dumps({k: c[k] for k in ('worker_class', 'workers', 'threads', 'worker_connections')}))"
    )
    shape = json.loads(subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, env=clean_env({})))
    return {key: str(value) for key, value in shape.items()}


def start_service(env: dict[str, str], name: str = "service") -> Process:
    """The service as deployed: gunicorn wsgi:app with the project's gunicorn.conf.py.

    Its task registry is a fresh SQLite file unless `env` sets REDIS_URL: never the project's
    instance folder, whose tasks of an earlier run would answer starts without a join.
    """
    port = free_port()
    instance = tempfile.mkdtemp(prefix="bench-sandbox-")
    env = clean_env(
        {
            "RATELIMIT_ENABLED": "false",
            "SANDBOX_DB": f"{instance}/sandbox.sqlite3",
            "STATE_DB": f"{instance}/state.sqlite3",
            **env,
        }
    )
    argv = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "wsgi:app"]
    return start_process(name, argv, ROOT, env, f"http://127.0.0.1:{port}", "/healthz")


def start_baseline(module: str, env: dict[str, str], shape: dict[str, str], name: str = "") -> Process:
    """A bare Flask app from bench/, under gunicorn with the service's worker shape (and no config file)."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-b",
        f"127.0.0.1:{port}",
        "-k",
        shape["worker_class"],
        "-w",
        shape["workers"],
        "--threads",
        shape["threads"],
        "--worker-connections",
        shape["worker_connections"],
        "--no-control-socket",
        f"{module}:app",
    ]
    return start_process(
        name or f"baseline-{module}", argv, BENCH, clean_env({**SANDBOX, **env}), f"http://127.0.0.1:{port}", "/"
    )


def start_emulator(latency: float, name: str = "emulator") -> Process:
    port = free_port()
    db = os.path.join(tempfile.mkdtemp(prefix="bench-emulator-"), "emulator.sqlite3")
    argv = [sys.executable, "-m", "sandbox", "--port", str(port), "--latency", str(latency), "--db", db]
    return start_process(name, argv, ROOT, clean_env({}), f"http://127.0.0.1:{port}", "/_sandbox/stats", db)


def emulator_stats(emulator: Process) -> dict[str, int]:
    return requests.get(f"{emulator.url}/_sandbox/stats", timeout=5).json()


def emulator_joins(emulator: Process, channel: str) -> int:
    """How many agents the emulator made in `channel`: read from its store, which no answer can fake."""
    assert emulator.db is not None
    return len(SandboxStore(emulator.db).list_agents(SANDBOX["APP_ID"], channel))


# ---- wrk ------------------------------------------------------------------------------------

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format('{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.status + errors.timeout))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk(url: str, body: dict, connections: int, seconds: float) -> dict[str, float]:
    """One wrk run: POST `body` to `url`; requests/s, p50 and p99 in ms, and the error count."""
    OUT.mkdir(exist_ok=True)
    script = OUT / "post.lua"
    script.write_text(_WRK_SCRIPT)
    threads = min(connections, 2)
    result = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_BODY": json.dumps(body)},
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "p50": figures["p50_us"] / 1000,
        "p99": figures["p99_us"] / 1000,
        "errors": figures["errors"],
    }


# ---- paired runs and the table -------------------------------------------------------------


def paired(
    measure: Callable[[Process], dict[str, float]], service: Process, baseline: Process, pairs: int
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """`pairs` measurements of each, alternating which goes first, so drift hits both alike."""
    ours, theirs = [], []
    for index in range(pairs):
        order = (service, baseline) if index % 2 == 0 else (baseline, service)
        for process in order:
            (ours if process is service else theirs).append(measure(process))
    return ours, theirs


def interleaved(
    measure: Callable[[Process], dict[str, float]], processes: list[Process], rounds: int
) -> list[list[dict[str, float]]]:
    """`rounds` measurements of each process, the order rotating every round, as `paired` does for two."""
    results: list[list[dict[str, float]]] = [[] for _ in processes]
    for index in range(rounds):
        shift = index % len(processes)
        for position in list(range(shift, len(processes))) + list(range(shift)):
            results[position].append(measure(processes[position]))
    return results


def median_ratio(ours: list[dict[str, float]], theirs: list[dict[str, float]], key: str) -> float:
    return statistics.median(a[key] / b[key] for a, b in zip(ours, theirs, strict=True) if b[key])


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}, {when}"


def finish(code: int) -> None:
    """Exit with `code`, after saying that a --quick run's figures mean nothing."""
    if "--quick" in sys.argv:
        print("(--quick: a check that the benchmark runs; its figures are too short to mean anything)")
    sys.exit(code)
