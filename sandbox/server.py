"""The emulator as a real HTTP/1.1 server, for AGORA_API_BASE_URL to point at (see __main__).

The standard library's http.server parses requests and keeps connections alive; this module
only bridges it to WSGI. Werkzeug's development server will not do: it closes every connection
after one answer, while a real Agora keeps them open, and whether clients reuse them is part
of what the benchmarks measure.
"""

from __future__ import annotations

import io
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sandbox.emulator import DELAY_HEADER, DISCONNECT_HEADER


class Counters:
    """TCP connections accepted and requests served: how well clients reuse connections."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connections = 0
        self.requests = 0

    def add(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a burst of hundreds of connections must not be refused

    def __init__(self, address: tuple[str, int], app: Any, latency: float) -> None:
        super().__init__(address, _Handler)
        self.app, self.latency, self.counters = app, latency, Counters()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client says otherwise
    # Headers and body go out in two writes; with Nagle on, the body would wait for the
    # client's delayed ACK (40 ms), a latency no real Agora adds.
    disable_nagle_algorithm = True
    server: EmulatorServer

    def setup(self) -> None:
        self.server.counters.add("connections")
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a benchmark's thousands of lines say nothing

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every method goes to the WSGI app
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        path = urlsplit(self.path)
        if path.path == "/_sandbox/stats":
            counters = self.server.counters
            self._send(
                "200 OK",
                [("Content-Type", "application/json")],
                f'{{"connections": {counters.connections}, "requests": {counters.requests}}}'.encode(),
            )
            return
        self.server.counters.add("requests")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        status, headers, payload = self._call_app(path.path, path.query, body)
        delay = self.server.latency + float(dict(headers).get(DELAY_HEADER, 0))
        if delay:
            time.sleep(delay)
        if dict(headers).get(DISCONNECT_HEADER):
            self.connection.shutdown(socket.SHUT_RDWR)  # the client sees the connection drop
            self.close_connection = True
            return
        kept = [(k, v) for k, v in headers if k not in (DELAY_HEADER, DISCONNECT_HEADER, "Content-Length")]
        self._send(status, kept, payload)

    def _call_app(self, path: str, query: str, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        environ = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
        }
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[name] = value
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started.update(status=status, headers=headers)

        chunks = self.server.app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return started["status"], started["headers"], payload

    def _send(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def serve(app: Any, host: str, port: int, latency: float = 0.0) -> EmulatorServer:
    """A threaded server for `app`; call serve_forever() on it. Port 0 picks a free port."""
    return EmulatorServer((host, port), app, latency)
