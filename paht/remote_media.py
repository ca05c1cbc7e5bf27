"""Media fetched from a URL another system gives (Open311 `media_url`, chat webhooks), held to the same limits
and checks as an upload, and only from the hosts the province allows (PAHT_MEDIA_URL_HOSTS)."""
from __future__ import annotations

import re
import time
from urllib.parse import unquote, urljoin, urlsplit

import requests

from . import settings
from .errors import ApiError
from .mediatypes import MediaRejected, validate

CONNECT_TIMEOUT = 5.0     # seconds to open the connection
READ_TIMEOUT = 10.0       # seconds between two reads
TOTAL_SECONDS = 30.0      # the whole download: a sender trickling bytes under the read timeout is cut off
MAX_REDIRECTS = 3
CHUNK = 64 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _allowed(url: str, allowed_hosts: frozenset[str]) -> str:
    """The URL's host when it may be fetched (http/https, no credentials, host or host:port on the list)."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        raise ApiError("MEDIA_URL_REFUSED", fields={"media_url": "not a URL"}) from None
    if parts.scheme not in ("http", "https") or not host:
        raise ApiError("MEDIA_URL_REFUSED", fields={"media_url": "only http and https URLs"})
    if parts.username is not None or parts.password is not None:
        raise ApiError("MEDIA_URL_REFUSED", fields={"media_url": "no credentials in the URL"})
    if host not in allowed_hosts and (port is None or f"{host}:{port}" not in allowed_hosts):
        raise ApiError("MEDIA_URL_REFUSED", fields={"media_url": f"host {host} is not allowed"})
    return host


def _filename(url: str) -> str:
    last = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return _SAFE_NAME.sub("_", last).strip("._")[:100] or "media_url"


def _download(response, limit: int, started: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError("MEDIA_TOO_LARGE", fields={"media_url": "too large"},
                       detail=f"limit {limit // settings.MB} MB")
    data = bytearray()
    for chunk in response.iter_content(CHUNK):
        data.extend(chunk)
        if len(data) > limit:
            raise ApiError("MEDIA_TOO_LARGE", fields={"media_url": "too large"},
                           detail=f"limit {limit // settings.MB} MB")
        if time.monotonic() - started > TOTAL_SECONDS:
            raise ApiError("MEDIA_URL_UNREACHABLE", fields={"media_url": "download too slow"})
    return bytes(data)


def fetch_media(url: str) -> tuple[str, str, str, bytes]:
    """(filename, kind, mime, data) of the file at `url`, like one `media` upload: only http/https from a host of
    `settings.media_url_hosts()` (none configured: every URL is refused), redirects followed only on the same host,
    at most `settings.max_upload_bytes()` read, then decoded by `paht.mediatypes.validate`. Every refusal is an
    ApiError (MEDIA_URL_REFUSED, MEDIA_URL_UNREACHABLE, EMPTY_UPLOAD, MEDIA_TOO_LARGE, UNSUPPORTED_MEDIA,
    INVALID_MEDIA) naming the field `media_url`."""
    allowed_hosts = settings.media_url_hosts()
    if not allowed_hosts:
        raise ApiError("MEDIA_URL_REFUSED", fields={"media_url": "no media host is allowed on this system"})
    host = _allowed(url, allowed_hosts)
    limit, started = settings.max_upload_bytes(), time.monotonic()
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            with requests.get(current, stream=True, allow_redirects=False,
                              timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                              headers={"Accept": "image/*, video/*, audio/*"}) as response:
                if response.is_redirect:
                    target = urljoin(current, response.headers.get("Location", ""))
                    if _allowed(target, allowed_hosts) != host:
                        raise ApiError("MEDIA_URL_REFUSED", fields={"media_url": "redirected to another host"})
                    current = target
                    continue
                if response.status_code != 200:
                    raise ApiError("MEDIA_URL_UNREACHABLE", fields={"media_url": f"HTTP {response.status_code}"})
                data = _download(response, limit, started)
        except requests.RequestException as exc:
            raise ApiError("MEDIA_URL_UNREACHABLE", fields={"media_url": type(exc).__name__}) from None
        break
    else:
        raise ApiError("MEDIA_URL_UNREACHABLE", fields={"media_url": f"more than {MAX_REDIRECTS} redirects"})
    if not data:
        raise ApiError("EMPTY_UPLOAD", fields={"media_url": "empty"})
    try:
        info = validate(data)
    except MediaRejected as rejected:
        raise ApiError(rejected.code, fields={"media_url": _filename(url)}, detail=rejected.detail) from None
    return _filename(url), info.kind, info.mime, data
