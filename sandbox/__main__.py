"""Run the Agora RTT 7.x emulator on its own: python -m sandbox [--port 9000] [--latency 0.2].

Then start the service in live mode against it:
  AGORA_API_BASE_URL=http://127.0.0.1:9000 APP_ID=... (the four values printed below) gunicorn wsgi:app
"""

from __future__ import annotations

import argparse
import os
import tempfile

from api.settings import AGORA_CREDENTIALS, SANDBOX_CREDENTIALS
from sandbox.emulator import create_emulator
from sandbox.server import serve
from sandbox.store import SandboxStore


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--db", default=None, help="SQLite file for agents and faults (default: a temporary file)")
    args = parser.parse_args(argv)

    # The project it emulates: the sandbox's own, unless the environment names another.
    credentials = {name: os.environ.get(f"EMULATOR_{name}") or SANDBOX_CREDENTIALS[name] for name in AGORA_CREDENTIALS}
    db = args.db or os.path.join(tempfile.mkdtemp(prefix="agora-emulator-"), "emulator.sqlite3")
    emulator = create_emulator(
        SandboxStore(db),
        app_id=credentials["APP_ID"],
        app_certificate=credentials["APP_CERTIFICATE"],
        customer_id=credentials["CUSTOMER_ID"],
        customer_secret=credentials["CUSTOMER_SECRET"],
    )
    server = serve(emulator, args.host, args.port, args.latency)
    print(f"Agora RTT 7.x emulator on http://{args.host}:{server.server_port} (latency {args.latency} s)")
    print("Point the service at it in live mode with:")
    print(f"  AGORA_API_BASE_URL=http://{args.host}:{server.server_port}")
    for name in AGORA_CREDENTIALS:
        print(f"  {name}={credentials[name]}")
    print('Faults: POST /_sandbox/faults {"op": "join", "status": 503}; counters: GET /_sandbox/stats', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
