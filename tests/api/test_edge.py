"""The service's own edge (api/edge.py): chunked bodies over the limit, HTTP/1.1 without Host."""

import io
import json

import flask
import pytest
from werkzeug.test import EnvironBuilder

TOKEN = {"channel": "demo", "uid": 1234}


def call(app, drop=(), **builder):
    """Run the whole WSGI app on an environ as gunicorn builds it, without the keys in `drop`."""
    environ = EnvironBuilder(**builder).get_environ()
    for key in drop:
        environ.pop(key)
    return app.response_class.from_app(app, environ, buffered=True)


def chunked_post(app, body: bytes, path="/api/tokens.json"):
    """A body as gunicorn hands over a chunked one: no Content-Length, the input marked terminated."""
    return call(
        app,
        drop=["CONTENT_LENGTH"],
        path=path,
        method="POST",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_the_limit_is_413_json(app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = chunked_post(app, b"{" + b" " * limit + b"}")
    assert response.status_code == 413
    assert response.content_type == "application/json"
    assert response.get_json() == {
        "error": {"code": "payload_too_large", "message": f"The request body is larger than {limit} bytes."}
    }
    assert response.headers["X-Request-ID"]


def test_the_same_message_as_an_oversized_body_with_a_length(client, app):
    body = b"{" + b" " * app.config["MAX_CONTENT_LENGTH"] + b"}"
    with_length = client.post("/api/tokens.json", data=body, content_type="application/json")
    assert with_length.status_code == 413
    assert chunked_post(app, body).get_json() == with_length.get_json()


@pytest.mark.parametrize("padding", [0, 100])
def test_a_chunked_body_within_the_limit_is_served(app, padding):
    body = json.dumps(TOKEN).encode() + b" " * padding
    response = chunked_post(app, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["channel"] == "demo"


def test_a_chunked_body_of_exactly_the_limit_is_read_whole(app):
    encoded = json.dumps(TOKEN).encode()
    body = encoded + b" " * (app.config["MAX_CONTENT_LENGTH"] - len(encoded))
    response = chunked_post(app, body)
    assert response.status_code == 200, response.get_data(as_text=True)


def length_post(app, body: bytes, *, terminated=True):
    """A body with its Content-Length, as gunicorn hands it over (ended at that length, and saying so).

    The stream comes back too: its position is what the app read of it.
    """
    stream = io.BytesIO(body)
    response = call(
        app,
        path="/api/tokens.json",
        method="POST",
        input_stream=stream,
        headers={"Content-Type": "application/json", "Content-Length": str(len(body))},
        environ_overrides={"wsgi.input_terminated": True} if terminated else {},
    )
    return response, stream


def test_a_body_over_the_limit_by_its_length_is_refused_unread(app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response, stream = length_post(app, b"{" + b" " * limit + b"}")
    assert response.status_code == 413
    assert response.get_json() == {
        "error": {"code": "payload_too_large", "message": f"The request body is larger than {limit} bytes."}
    }
    assert stream.tell() == 0


@pytest.mark.parametrize("terminated", [True, False])
def test_a_body_within_the_limit_is_read_once_and_whole(app, terminated):
    body = json.dumps(TOKEN).encode()
    response, stream = length_post(
        app, body + b" " * (app.config["MAX_CONTENT_LENGTH"] - len(body)), terminated=terminated
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["channel"] == "demo"
    assert stream.tell() == app.config["MAX_CONTENT_LENGTH"]


def test_the_app_reads_a_bounded_body_from_the_servers_stream_itself(app):
    seen = {}

    @app.post("/api/stream-probe.json")
    def probe():
        seen["stream"] = flask.request.stream
        return {"length": len(flask.request.get_data())}

    for terminated in (True, False):
        stream = io.BytesIO(b"{}")
        overrides = {"wsgi.input_terminated": True} if terminated else {}
        response = call(
            app, path="/api/stream-probe.json", method="POST", input_stream=stream, environ_overrides=overrides
        )
        assert response.get_json() == {"length": 2}
        # Ended by the server: no second limit around it. Not ended: Werkzeug's LimitedStream guards it.
        assert (seen["stream"] is stream) is terminated


def test_a_views_own_limit_still_applies_to_a_bounded_body(app):
    @app.post("/api/small-body.json")
    def small():
        flask.request.max_content_length = 10
        return {"length": len(flask.request.get_data())}

    for body, status in ((b"{}", 200), (b'{"channel": "demo"}', 413)):
        response = call(
            app,
            path="/api/small-body.json",
            method="POST",
            input_stream=io.BytesIO(body),
            environ_overrides={"wsgi.input_terminated": True},
        )
        assert response.status_code == status, response.get_data(as_text=True)


@pytest.mark.parametrize("length", ["+5", "5x", "\u0665", "-1"])
def test_a_content_length_that_is_not_plain_digits_is_left_to_werkzeug(app, length):
    overrides = {"CONTENT_LENGTH": length, "CONTENT_TYPE": "application/json", "wsgi.input_terminated": True}
    response = call(
        app, path="/api/tokens.json", method="POST", input_stream=io.BytesIO(b"{}"), environ_overrides=overrides
    )
    assert response.status_code in (400, 413), response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] in ("invalid_json", "invalid_field", "payload_too_large")


def get_healthz(app, protocol: str, host: str | None):
    overrides = {"SERVER_PROTOCOL": protocol} | ({} if host is None else {"HTTP_HOST": host})
    return call(app, drop=[] if host is not None else ["HTTP_HOST"], path="/healthz", environ_overrides=overrides)


def test_http_1_1_without_host_is_400_json(app):
    response = get_healthz(app, "HTTP/1.1", None)
    assert response.status_code == 400
    assert response.content_type == "application/json"
    message = "An HTTP/1.1 request must carry a Host header (RFC 9112, section 3.2)."
    assert response.get_json() == {"error": {"code": "bad_request", "message": message}}
    assert response.headers["X-Request-ID"]


@pytest.mark.parametrize(("protocol", "host"), [("HTTP/1.0", None), ("HTTP/1.1", ""), ("HTTP/1.1", "example.com")])
def test_http_1_0_without_host_and_an_empty_host_are_served(app, protocol, host):
    response = get_healthz(app, protocol, host)
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
