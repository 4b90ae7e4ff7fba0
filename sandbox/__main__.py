"""Run the Agora RTT 7.x emulator on its own: python -m sandbox [--port 9000] [--latency 0.2].

Then start the service in live mode against it:
  AGORA_API_BASE_URL=http://127.0.0.1:9000 APP_ID=... (the four values printed below) gunicorn wsgi:app
"""

from __future__ import annotations

import argparse
import os
import tempfile

from api.settings import AGORA_CREDENTIALS, SANDBOX_CREDENTIALS, SANDBOX_NCS_SECRET
from sandbox.emulator import create_emulator
from sandbox.notifier import Notifier
from sandbox.server import serve
from sandbox.store import SandboxStore


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--db", default=None, help="SQLite file for agents and faults (default: a temporary file)")
    parser.add_argument("--notify-url", help="post Agora's signed NCS notifications (101/102) to this URL")
    parser.add_argument("--notify-duplicates", action="store_true", help="deliver every notification twice")
    parser.add_argument("--notify-reorder", action="store_true", help="deliver each 101 after its agent's 102")
    args = parser.parse_args(argv)

    # The project it emulates: the sandbox's own, unless the environment names another.
    credentials = {name: os.environ.get(f"EMULATOR_{name}") or SANDBOX_CREDENTIALS[name] for name in AGORA_CREDENTIALS}
    db = args.db or os.path.join(tempfile.mkdtemp(prefix="agora-emulator-"), "emulator.sqlite3")
    store = SandboxStore(db)
    notifier = None
    if args.notify_url:
        # The secret the service has as NCS_SECRET; never printed.
        secret = os.environ.get("EMULATOR_NCS_SECRET") or SANDBOX_NCS_SECRET
        notifier = Notifier(
            store, secret, lambda: args.notify_url, duplicates=args.notify_duplicates, reorder=args.notify_reorder
        )
        notifier.start()
    emulator = create_emulator(
        store,
        app_id=credentials["APP_ID"],
        app_certificate=credentials["APP_CERTIFICATE"],
        customer_id=credentials["CUSTOMER_ID"],
        customer_secret=credentials["CUSTOMER_SECRET"],
        notifier=notifier,
    )
    server = serve(emulator, args.host, args.port, args.latency)
    print(f"Agora RTT 7.x emulator on http://{args.host}:{server.server_port} (latency {args.latency} s)")
    print("Point the service at it in live mode with:")
    print(f"  AGORA_API_BASE_URL=http://{args.host}:{server.server_port}")
    for name in AGORA_CREDENTIALS:
        print(f"  {name}={credentials[name]}")
    if notifier is not None:
        print(f"Notifications to {args.notify_url}, signed with EMULATOR_NCS_SECRET (or the sandbox's NCS secret)")
    print('Faults: POST /_sandbox/faults {"op": "join", "status": 503}; counters: GET /_sandbox/stats', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
