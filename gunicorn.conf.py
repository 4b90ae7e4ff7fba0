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

# gevent: a request spends most of its life waiting on Agora (a join takes up to seconds), and
# a waiting greenlet costs a few kB, where a waiting thread costs a request slot and, with
# many threads per worker, GIL convoys that slow every token request (bench/RESULTS.md). The
# CPU-bound part (token signing, JSON) then runs as in a sync worker. The worker patches the
# standard library before it loads the app; gunicorn_worker.py says what it changes in
# gunicorn's gevent worker, and why.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gunicorn_worker.GeventWorker")
# One worker per core: a gevent worker keeps its core busy with few connections, and each
# extra process costs the token endpoint context switches on a full machine (64 connections:
# 0.92x the best bare app with one per core, 0.83x with two; bench/RESULTS.md, 2026-12-01).
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
# Used by gthread only (GUNICORN_WORKER_CLASS=gthread); gevent ignores it.
threads = int(os.environ.get("GUNICORN_THREADS", 8))
# Connections a worker holds at once, waiting starts and idle keep-alive ones included.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", 1000))
# A listening socket per worker (SO_REUSEPORT): the kernel spreads new connections evenly.
# On one shared socket the first worker to wake takes most of a burst and serves it while
# the other idles.
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") != "0"
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
    # reuse_port is for TCP: on a unix socket (deploy/serve's) every worker would bind a new file
    # over the last one's, and only the last worker would be reachable. There: one shared socket.
    if any(address.startswith(("unix:", "fd://")) for address in server.cfg.bind):
        server.cfg.set("reuse_port", False)


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
