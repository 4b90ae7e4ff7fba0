"""The JSON edge: every error is JSON of one shape, and every response carries a request id."""

import pytest
from werkzeug.exceptions import InternalServerError

from api import create_app
from tests.conftest import LIVE


def test_unknown_route_is_json_404(client):
    response = client.get("/api/nothing.json")
    assert response.status_code == 404
    assert response.content_type == "application/json"
    assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_json_405_with_allow(client):
    response = client.get("/api/tokens.json")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    error = response.get_json()["error"]
    assert error["code"] == "method_not_allowed"
    assert "GET is not allowed" in error["message"]


def test_oversized_body_is_json_413(client):
    response = client.post("/api/tokens.json", json={"channel": "demo", "uid": 1, "pad": "x" * 20_000})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_a_bug_is_a_json_500_that_hides_the_details_and_logs_them(caplog):
    app = create_app({"TESTING": False, "RATELIMIT_ENABLED": False, **LIVE})

    @app.post("/api/boom.json")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().post("/api/boom.json", json={})
    assert response.status_code == 500
    error = response.get_json()["error"]
    assert error["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] in error["message"]
    assert "secret internals" in caplog.text


def test_an_explicit_500_is_json_too(app):
    @app.get("/api/abort.json")
    def abort_500():
        raise InternalServerError()

    assert app.test_client().get("/api/abort.json").get_json()["error"]["code"] == "internal_error"


def test_a_request_id_is_generated_and_returned(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_clean_request_id_from_the_client_is_kept(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc"}).headers["X-Request-ID"] == "lb-1234.abc"


@pytest.mark.parametrize("bad", ["x" * 129, "a b", "<script>", "id\u00e9"])
def test_an_unsafe_request_id_is_replaced(client, bad):
    assert client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"] != bad


def test_error_responses_carry_the_request_id_too(client):
    response = client.post("/api/tokens.json", json={}, headers={"X-Request-ID": "trace-1"})
    assert response.headers["X-Request-ID"] == "trace-1"


def test_log_lines_carry_the_request_id(client, agora, caplog):
    agora.get(
        "https://agora.test/api/speech-to-text/v1/projects/0123456789abcdef0123456789abcdef/agents/A1",
        json={"status": "RUNNING"},
        headers={"X-Request-ID": "agora-side-7"},
    )
    client.post("/api/rtt/query.json", json={"taskId": "A1"}, headers={"X-Request-ID": "trace-2"})
    line = next(record for record in caplog.records if record.name == "api.agora")
    assert line.request_id == "trace-2"
    assert "agora-side-7" in line.getMessage()


def test_healthz_says_which_agora(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "mode": "live", "rtt": "7.x"}


def test_the_demo_page_is_html(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    for testid in ("channel", "uid", "join", "start-captions", "stop-captions", "captions", "status", "error"):
        assert f'data-testid="{testid}"' in page
    assert 'data-mode="live"' in page


def test_generated_ids_differ_in_a_forked_worker():
    import os

    from api.request_id import new_request_id

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a gunicorn worker is a fork of its master
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child, parent = os.read(read, 64).decode(), new_request_id()
    os.close(read)
    os.close(write)
    assert len(child) == len(parent) == 32
    assert child[:16] != parent[:16]
