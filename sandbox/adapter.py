"""A requests transport adapter that hands each request to the emulator, in process.

Mounted on the service's one Session in sandbox mode, it sits beneath `make_request`, so
the endpoints and `make_request` run exactly as they do against api.agora.io.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client

from sandbox.emulator import DELAY_HEADER, DISCONNECT_HEADER


class SandboxAdapter(BaseAdapter):
    def __init__(self, emulator) -> None:
        super().__init__()
        self.client = Client(emulator)

    def send(self, request: requests.PreparedRequest, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urlsplit(request.url)
        answer = self.client.open(
            path=url.path,
            query_string=url.query,
            method=request.method,
            headers=list(request.headers.items()),
            data=request.body or b"",
            base_url=f"{url.scheme}://{url.netloc}",
        )
        if answer.headers.get(DISCONNECT_HEADER):
            raise requests.ConnectionError("sandbox: the connection was dropped", request=request)
        delay = float(answer.headers.get(DELAY_HEADER, 0))
        if delay:
            read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
            if read_timeout is not None and delay >= read_timeout:
                time.sleep(read_timeout)
                raise requests.ReadTimeout(f"sandbox: no answer within {read_timeout} s", request=request)
            time.sleep(delay)

        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.status.partition(" ")[2]
        response.headers = CaseInsensitiveDict(
            (key, value) for key, value in answer.headers.items() if key not in (DELAY_HEADER, DISCONNECT_HEADER)
        )
        response._content = answer.get_data()
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass
