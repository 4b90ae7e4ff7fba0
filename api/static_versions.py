"""Static URLs carry a digest of their file (`?v=`), so that a proxy can let browsers keep them a year.

The digests are taken once, when the app is built: a release changes the URL of every file it
changes, and nothing is computed per request. deploy/nginx.conf.template gives the versioned
URLs a year's Cache-Control and has browsers revalidate the others.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask


def file_digests(folder: Path) -> dict[str, str]:
    """Each file under `folder`, by its path relative to it (as url_for's `filename`): 12 hex digits."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def init_app(app: Flask) -> None:
    digests = file_digests(Path(app.static_folder or ""))

    @app.url_defaults
    def add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in digests:
            values.setdefault("v", digests[values["filename"]])
