"""build_session reads the proxy and CA settings once, at boot; make_request never reads the environment."""

import http.server
import threading
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import RTT_BASE
from utils.make_request import build_session, make_request

AGORA = "http://agora.test"


class _RecordingProxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy that answers every request itself and remembers its request line."""

    seen: list[str] = []

    def do_GET(self):
        self.seen.append(self.requestline)
        body = b'{"via": "proxy"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingProxy)
    _RecordingProxy.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_environments_proxy_carries_the_calls(monkeypatch, proxy):
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = build_session(1, AGORA)
    answer = session.get(f"{AGORA}/api/x", timeout=5)
    assert answer.json() == {"via": "proxy"}
    assert _RecordingProxy.seen == [f"GET {AGORA}/api/x HTTP/1.1"]


def test_the_environment_is_read_at_boot_not_per_call(monkeypatch, proxy):
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    session = build_session(1, "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("HTTP_PROXY", proxy)  # set after boot: not used
    with pytest.raises(requests.ConnectionError):
        session.get("http://127.0.0.1:9/api/x", timeout=2)
    assert _RecordingProxy.seen == []
    assert session.trust_env is False


def test_no_proxy_for_agoras_host_means_a_direct_connection(monkeypatch, proxy):
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "agora.test")
    assert build_session(1, AGORA).proxies == {}


def test_a_ca_bundle_from_the_environment_is_kept(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert build_session(1, AGORA).verify == str(bundle)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    assert build_session(1, AGORA).verify is True


def test_a_netrc_entry_does_not_replace_the_agora_credential(monkeypatch, tmp_path, app, agora):
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {urlsplit(RTT_BASE).hostname} login someone password else\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    agora.get(f"{RTT_BASE}/agents/A1", json={})
    with app.app_context():
        make_request("GET", f"{RTT_BASE}/agents/A1", "Y3JlZA==")
    assert agora.calls[0].request.headers["Authorization"] == "Basic Y3JlZA=="
