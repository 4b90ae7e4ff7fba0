"""TLS terminated by deploy/serve's nginx, with the operator's certificate (none is shipped)."""

import shutil
import subprocess

import pytest
import requests

from deploy.nginx_conf import tls_files
from tests.deploy.conftest import start_serve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is missing: it makes the test's self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", folder / "key.pem", "-out", folder / "cert.pem"],
        check=True,
        capture_output=True,
    )
    return folder / "cert.pem", folder / "key.pem"


def test_https_through_nginx(tmp_path, certificate):
    cert, key = certificate
    served = start_serve(
        tmp_path, {"NGINX_TLS_CERTIFICATE": str(cert), "NGINX_TLS_CERTIFICATE_KEY": str(key)}, scheme="https", ca=cert
    )
    try:
        https_url = served.url
        token = {"channel": "tls", "uid": 9}
        answer = requests.post(f"{https_url}/api/tokens.json", json=token, verify=cert, timeout=5)
        assert answer.status_code == 200
        assert answer.json()["channel"] == "tls"
        plain = requests.get(https_url.replace("https:", "http:") + "/healthz", timeout=5)
        assert plain.status_code == 400
        assert plain.headers["Content-Type"] == "application/json"
        assert plain.json()["error"]["code"] == "https_required"
        assert "Open https://127.0.0.1:" in served.log()
    finally:
        assert served.stop() == 0, served.log()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NGINX_TLS_CERTIFICATE": "/etc/hostname"}, "NGINX_TLS_CERTIFICATE_KEY is missing"),
        ({"NGINX_TLS_CERTIFICATE": "/nope.pem", "NGINX_TLS_CERTIFICATE_KEY": "/etc/hostname"}, "no file at /nope.pem"),
        ({"NGINX_TLS_CERTIFICATE": "/a;b", "NGINX_TLS_CERTIFICATE_KEY": "/etc/hostname"}, "must be a path without"),
    ],
)
def test_tls_settings_must_name_two_files(environ, message):
    with pytest.raises(ValueError, match=message):
        tls_files(environ)
