"""Static URLs carry their file's digest (api/static_versions.py)."""

import hashlib
from pathlib import Path

from flask import url_for

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"


def test_the_demo_page_links_each_static_file_with_its_digest(client):
    page = client.get("/").get_data(as_text=True)
    for name in ("app.css", "app.js", "vendor/protobufjs/protobuf.min.js", "proto/SttMessage.proto"):
        digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
        assert f"/static/{name}?v={digest}" in page


def test_a_file_that_is_not_there_gets_no_version(app):
    with app.test_request_context():
        assert url_for("static", filename="missing.js") == "/static/missing.js"


def test_a_versioned_url_serves_the_file(client):
    with client.application.test_request_context():
        url = url_for("static", filename="app.css")
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.data == (STATIC / "app.css").read_bytes()
