"""paht.remote_media.fetch_media against a small HTTP server on loopback: the allow-list, redirects, the size limit
and the same media checks as an upload."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from paht import settings
from paht.errors import ApiError
from paht.remote_media import fetch_media
from tests.media_factory import jpeg

PHOTO = jpeg(seed=5)


class Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict] = {}

    def do_GET(self):
        status, headers, body = self.routes.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        headers = {"Content-Length": str(len(body))} | headers
        for name, value in headers.items():
            if value is not None:                 # None: not sent (the body then ends when the connection closes)
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    Handler.routes = {
        "/photo.jpg": (200, {"Content-Type": "image/jpeg"}, PHOTO),
        "/moved": (302, {"Location": "/photo.jpg"}, b""),
        "/away": (302, {"Location": f"http://localhost:{port}/photo.jpg"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/page.html": (200, {"Content-Type": "text/html"}, b"<html>not a photo</html>"),
        "/empty": (200, {}, b""),
        "/huge": (200, {"Content-Length": str(50 * settings.MB)}, b"\xff\xd8\xff"),
        "/unsized.jpg": (200, {"Content-Length": None, "Connection": "close"}, PHOTO),
    }
    monkeypatch.setenv("PAHT_MEDIA_URL_HOSTS", "127.0.0.1")
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()
    httpd.server_close()


def refused(url: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        fetch_media(url)
    assert "media_url" in caught.value.fields
    return caught.value


def test_a_photo_on_an_allowed_host_is_fetched_like_an_upload(server):
    assert fetch_media(f"{server}/photo.jpg") == ("photo.jpg", "photo", "image/jpeg", PHOTO)
    assert fetch_media(f"{server}/moved")[3] == PHOTO          # a redirect on the same host is followed


def test_nothing_is_fetched_without_an_allow_list(server, monkeypatch):
    monkeypatch.setenv("PAHT_MEDIA_URL_HOSTS", "")
    assert refused(f"{server}/photo.jpg").code == "MEDIA_URL_REFUSED"


@pytest.mark.parametrize("url", [
    "ftp://127.0.0.1/photo.jpg", "file:///etc/passwd", "http://user:pw@127.0.0.1/photo.jpg", "http:///photo.jpg",
    "http://127.0.0.1.evil.test/photo.jpg", "http://[::1/photo.jpg", "javascript:alert(1)",
])
def test_other_schemes_hosts_and_credentials_are_refused(server, url):
    assert refused(url).code == "MEDIA_URL_REFUSED"


def test_an_allowed_host_and_port_entry_allows_only_that_port(server, monkeypatch):
    port = server.rsplit(":", 1)[1]
    monkeypatch.setenv("PAHT_MEDIA_URL_HOSTS", f"127.0.0.1:{port}")
    assert fetch_media(f"{server}/photo.jpg")[1] == "photo"
    assert refused(f"http://127.0.0.1:{int(port) + 1}/photo.jpg").code == "MEDIA_URL_REFUSED"


def test_a_redirect_to_another_host_is_refused_even_if_that_host_is_allowed(server, monkeypatch):
    monkeypatch.setenv("PAHT_MEDIA_URL_HOSTS", "127.0.0.1,localhost")
    assert refused(f"{server}/away").code == "MEDIA_URL_REFUSED"
    assert refused(f"{server}/loop").code == "MEDIA_URL_UNREACHABLE"


def test_what_is_not_media_or_not_there_is_refused_with_the_upload_codes(server):
    assert refused(f"{server}/page.html").code == "UNSUPPORTED_MEDIA"
    assert refused(f"{server}/empty").code == "EMPTY_UPLOAD"
    assert refused(f"{server}/missing.jpg").code == "MEDIA_URL_UNREACHABLE"


def test_the_size_limit_holds_for_declared_and_streamed_lengths(server, monkeypatch):
    assert refused(f"{server}/huge").code == "MEDIA_TOO_LARGE"
    assert fetch_media(f"{server}/unsized.jpg")[3] == PHOTO
    monkeypatch.setenv("PAHT_MAX_UPLOAD_MB", "0")          # every byte is over the limit
    assert refused(f"{server}/unsized.jpg").code == "MEDIA_TOO_LARGE"


def test_a_host_that_does_not_answer_is_unreachable(monkeypatch):
    import socket
    with socket.socket() as probe:      # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PAHT_MEDIA_URL_HOSTS", "127.0.0.1")
    assert refused(f"http://127.0.0.1:{port}/photo.jpg").code == "MEDIA_URL_UNREACHABLE"
