import pytest
import requests

from tests.conftest import RTT_BASE
from utils.make_request import AgoraError, agora_operation, make_request

URL = f"{RTT_BASE}/agents/A1"


def test_returns_agoras_json_object(app, agora):
    agora.get(URL, json={"status": "RUNNING"})
    with app.app_context():
        assert make_request("GET", URL, "Y3JlZA==") == {"status": "RUNNING"}
    assert agora.calls[0].request.headers["Authorization"] == "Basic Y3JlZA=="


def test_an_empty_success_is_an_empty_object(app, agora):
    agora.post(URL, body="")
    with app.app_context():
        assert make_request("POST", URL, "Y3JlZA==") == {}


def test_one_session_is_reused_for_every_call(app, agora):
    agora.get(URL, json={})
    agora.get(URL, json={})
    with app.app_context():
        session = app.extensions["agora_session"]
        make_request("GET", URL, "Y3JlZA==")
        make_request("GET", URL, "Y3JlZA==")
        assert app.extensions["agora_session"] is session
    assert isinstance(session, requests.Session)
    assert session.get_adapter(URL).poolmanager.connection_pool_kw["maxsize"] == app.config["AGORA_POOL_SIZE"]


def test_redirects_are_not_followed(app, agora):
    agora.post(URL, status=302, headers={"Location": "https://elsewhere.test/"})
    with app.app_context(), pytest.raises(AgoraError) as failure:
        make_request("POST", URL, "Y3JlZA==", {"a": 1})
    assert failure.value.status == 302


def test_a_failure_keeps_agoras_status_reason_and_request_id(app, agora):
    agora.get(
        URL,
        status=400,
        json={"detail": "body schema check fail", "reason": "InvalidParameter"},
        headers={"X-Request-ID": "r-1"},
    )
    with app.app_context(), pytest.raises(AgoraError) as failure:
        make_request("GET", URL, "Y3JlZA==")
    error = failure.value
    assert (error.kind, error.status, error.request_id) == ("http", 400, "r-1")
    assert error.reason == "body schema check fail; InvalidParameter"


def test_an_html_error_page_becomes_a_short_reason(app, agora):
    agora.get(URL, status=400, body="<html>\n  <body>" + "x" * 1000 + "</body></html>")
    with app.app_context(), pytest.raises(AgoraError) as failure:
        make_request("GET", URL, "Y3JlZA==")
    assert len(failure.value.reason) == 300
    assert "\n" not in failure.value.reason


def test_the_credential_never_reaches_the_log(app, agora, caplog):
    agora.get(URL, status=401, json={"detail": "no"})
    with app.app_context(), pytest.raises(AgoraError):
        make_request("GET", URL, "U0VDUkVUQ1JFRA==")
    assert caplog.records
    assert "U0VDUkVUQ1JFRA==" not in caplog.text


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("POST", "/join", "join"),
        ("GET", "/agents", "list"),
        ("GET", "/agents/A1", "query"),
        ("POST", "/agents/A1/leave", "leave"),
        ("POST", "/agents/A%2F1/update", "update"),
        ("DELETE", "/agents/A1", "other"),  # 6.x's stop: not a 7.x call
        ("GET", "/join", "other"),
        ("POST", "/agents/A1/pause", "other"),
    ],
)
def test_each_call_is_named_for_metrics_by_method_and_url_shape(method, path, operation):
    assert agora_operation(method, f"{RTT_BASE}{path}") == operation
