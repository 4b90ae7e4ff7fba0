"""gunicorn settings for production. gunicorn reads this file from the working directory.

Each value can be overridden by its environment variable (below) or on the command line
(`gunicorn -w 3 -b 0.0.0.0:8080 wsgi:app`). The choices are explained, with figures, in
bench/RESULTS.md.
"""

import atexit
import glob
import os
import shutil
import sys
import tempfile

from dotenv import load_dotenv

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
load_dotenv()

from api.settings import ConfigError, describe_mode, load_settings  # noqa: E402

# Check the settings once, in the master, before any worker starts: a bad configuration stops
# gunicorn with one clear message instead of workers failing to boot one after another.
try:
    _settings = load_settings(os.environ)
except ConfigError as error:
    sys.exit(f"Configuration error, not starting: {error}")

# Metrics (api/metrics.py): each worker writes its figures to files in PROMETHEUS_MULTIPROC_DIR and
# /metrics sums them, so that a scrape tells the service's totals, not the one worker's that answered.
# prometheus-client picks its file-backed mode at import, so the variable is set here, in the
# master, before any worker exists. One directory per master: another master's files would add up.
_OWN_METRICS_DIR = "_GUNICORN_METRICS_DIR"  # "<master pid> <dir>": a directory made below, and by which master


def _prepare_metrics_dir() -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    owner, _, own_directory = os.environ.get(_OWN_METRICS_DIR, "").partition(" ")
    if directory and (directory != own_directory or owner == str(os.getpid())):
        return  # the operator's own (wiped in on_starting), or this master re-reading its config (SIGHUP)
    # Unset, or made by a master this one was re-executed from (USR2): a fresh one of our own.
    directory = tempfile.mkdtemp(prefix="gunicorn-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    os.environ[_OWN_METRICS_DIR] = f"{os.getpid()} {directory}"
    atexit.register(_remove_metrics_dir, directory, os.getpid())


def _remove_metrics_dir(directory: str, master_pid: int) -> None:
    if os.getpid() == master_pid:  # workers inherit this exit hook; only the master may remove the files
        shutil.rmtree(directory, ignore_errors=True)


_prepare_metrics_dir()

wsgi_app = "wsgi:app"
_port = os.environ.get("PORT")
bind = os.environ.get("BIND") or (f"0.0.0.0:{_port}" if _port else "127.0.0.1:8000")

# Threads, because a request spends most of its life waiting on Agora (a join takes up to
# seconds): a thread waiting on a socket releases the GIL, so a worker keeps serving. One
# worker per core for the CPU-bound part (token signing, JSON).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
threads = int(os.environ.get("GUNICORN_THREADS", 64))
# Connections a worker holds at once: one per thread plus as many idle keep-alive ones
# (gthread keeps alive only while it holds fewer than this). The bound matters: unbounded
# (gunicorn's 1000), one worker can accept most of a burst and serve it in rounds while the
# other idles (bench/rtt measured p99 > 3x Agora's latency); equal to `threads`, no
# connection is ever kept alive and every client pays a new TCP handshake.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", 2 * threads))
# Longer than the slowest Agora call (AGORA_READ_TIMEOUT) plus the retries of a query.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5

# X-Forwarded-* are trusted only from these addresses (the proxy in front); the app's
# TRUSTED_PROXIES tells it how many of them to unwrap for the client's address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# One line per request with the worker pid and the request id (format in api/access_log.py).
accesslog = os.environ.get("ACCESS_LOG", "-") or None  # ACCESS_LOG= (empty) turns it off
logger_class = "api.access_log.AccessLogger"
errorlog = "-"

# gunicorn 25+ opens a control socket at one fixed path per user; two instances on a host
# would fight over it. Opt in with GUNICORN_CONTROL_SOCKET=/path/to/socket.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def on_starting(server):
    # Figures left by an earlier run would be added to this one's (prometheus-client's docs:
    # wipe the directory before start). Once per master, not on SIGHUP: the workers' counts stay.
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for path in glob.glob(os.path.join(directory, "*.db")):
        os.remove(path)


def child_exit(server, worker):
    # A dead worker's counters stay in its files (the totals must not drop); its live gauges go.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    # The app is built by now: tests and operators can tell a worker that serves from one booting.
    worker.log.info("Worker ready (pid: %s)", worker.pid)


def when_ready(server):
    if _settings["AGORA_MODE"] == "sandbox":
        server.log.warning(describe_mode(_settings))
    else:
        server.log.info(describe_mode(_settings))
    for address in server.cfg.bind:
        if address.startswith("unix:"):
            continue  # behind deploy/serve: nginx's address is the one to open, and it says so
        host = address.replace("0.0.0.0", "127.0.0.1")
        server.log.info("Open http://%s/ for the live captions demo", host)
