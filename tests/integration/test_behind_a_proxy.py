"""Behind a proxy (issue 20 item 5): intake on the real broker, reached through a reverse proxy on loopback that
appends X-Forwarded-For as an ingress does. With PAHT_TRUSTED_PROXIES naming the proxy, each client behind it has
its own rate-limit and login-throttle bucket and is the client of the request log; a client's own
X-Forwarded-For — through the proxy, or sent straight to intake — moves it to no other bucket."""
from __future__ import annotations

import http.client
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.integration

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


class ReverseProxy:
    """A threaded HTTP reverse proxy on 127.0.0.1: each request goes to `upstream` with the address it came from
    appended to X-Forwarded-For (what ingress-nginx, Envoy or a Gateway do)."""

    def __init__(self, upstream: str):
        target = urlsplit(upstream)

        class Forward(BaseHTTPRequestHandler):
            def forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in HOP_BY_HOP and k.lower() != "x-forwarded-for"}
                chain = ", ".join(self.headers.get_all("X-Forwarded-For") or [])
                headers["X-Forwarded-For"] = f"{chain}, {self.client_address[0]}" if chain else self.client_address[0]
                upstream_connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                try:
                    upstream_connection.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream_connection.getresponse()
                    data = answer.read()
                finally:
                    upstream_connection.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def post(port: int, path: str, source: str, body: bytes = b"", headers: dict | None = None) -> int:
    """POST from the loopback address `source` (127.0.0.2, 127.0.0.3 …: distinct clients on one machine)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


@pytest.fixture
def proxied(system, monkeypatch):
    monkeypatch.setenv("PAHT_RATE_LIMIT_PER_MINUTE", "3")        # off in the test environment unless set
    monkeypatch.setenv("PAHT_TRUSTED_PROXIES", "127.0.0.1/32")   # the proxy, and nothing else
    system.start("intake")
    proxy = ReverseProxy(system.api)
    yield system, proxy.port
    proxy.close()


def test_two_clients_behind_the_proxy_have_their_own_buckets(proxied, caplog):
    system, port = proxied
    caplog.set_level(logging.INFO, logger="nameko.web.server")
    reports = "/api/v1/reports"               # an empty submission is counted, then refused (400)
    assert [post(port, reports, "127.0.0.2") for _ in range(3)] == [400, 400, 400]
    assert post(port, reports, "127.0.0.2") == 429                 # the first client's bucket is full
    assert post(port, reports, "127.0.0.3") == 400                 # the second client's is not: its own
    forged = {"X-Forwarded-For": "203.0.113.50"}                   # the first client names another address
    assert post(port, reports, "127.0.0.2", headers=forged) == 429   # left of the proxy's entry: not believed

    login = "/api/v1/auth/login"

    def wrong(n):   # another username each time: only the address's bucket fills
        return json.dumps({"username": f"khong.ai.{n}", "password": "sai"}).encode()
    assert [post(port, login, "127.0.0.2", wrong(n)) for n in range(3)] == [401, 401, 401]
    assert post(port, login, "127.0.0.2", wrong(3)) == 429         # the login throttle counts this client …
    assert post(port, login, "127.0.0.3", wrong(4)) == 401         # … and not the other one behind the same proxy

    lines = [record.getMessage() for record in caplog.records if record.name == "nameko.web.server"]
    assert any(line.startswith("127.0.0.3 - -") and "POST /api/v1/auth/login" in line for line in lines), lines
    assert not any(line.startswith(("127.0.0.1 ", "203.0.113.50")) for line in lines), lines


def test_a_forged_header_from_an_untrusted_peer_is_ignored(proxied, caplog):
    system, _ = proxied
    caplog.set_level(logging.INFO, logger="nameko.web.server")
    port = int(urlsplit(system.api).port)                          # straight to intake: 127.0.0.4 is no proxy
    statuses = [post(port, "/api/v1/reports", "127.0.0.4", headers={"X-Forwarded-For": f"198.51.100.{n}"})
                for n in range(4)]
    assert statuses == [400, 400, 400, 429]                        # one bucket, whatever address it claims
    lines = [record.getMessage() for record in caplog.records if record.name == "nameko.web.server"]
    assert lines and all(line.startswith("127.0.0.4 - -") for line in lines), lines
