"""A raw HTTP client for hostile requests (nothing normalised: paths, bodies and headers go out as written), a
deterministic multipart encoder, and the demo-token lookup for both token-file layouts."""
from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

BOUNDARY = "paht-hostile-7f3a9c"


# ---- multipart ----------------------------------------------------------------------------------------------------
@dataclass
class Part:
    name: str
    data: Any                       # bytes | str | dict/list (JSON-encoded) | callable(ctx) → one of those
    filename: str | None = None
    mime: str | None = None


def _bytes(value, ctx) -> bytes:
    if callable(value):
        value = value(ctx)
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def multipart(parts: list[Part], ctx, boundary: str = BOUNDARY) -> bytes:
    out = bytearray()
    for part in parts:
        disposition = f'form-data; name="{part.name}"'
        if part.filename is not None:
            disposition += f'; filename="{part.filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if part.mime:
            out += f"Content-Type: {part.mime}\r\n".encode()
        out += b"\r\n" + _bytes(part.data, ctx) + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


# ---- requests -----------------------------------------------------------------------------------------------------
@dataclass
class Req:
    """One HTTP request. `path` and header values are formatted with the run context (`{A}`, `{operator}` …).

    Body, at most one of: `parts` (multipart, fixed boundary), `json` (any JSON value, or a callable(ctx)),
    `raw` (bytes or callable(ctx)). `content_type` overrides the header (None: the natural one; "" : none).
    `chunked` sends the body with Transfer-Encoding: chunked; `declared_length` sends that Content-Length but only
    the body (a lying client); `repeat` sends the very same bytes that many times.
    """

    method: str = "POST"
    path: str = "/api/v1/reports"
    headers: dict = field(default_factory=dict)
    parts: list | None = None
    json: Any = None
    raw: Any = None
    content_type: str | None = None
    chunked: bool = False
    declared_length: int | None = None
    repeat: int = 1
    timeout: float = 15.0


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def error(self) -> dict | None:
        try:
            body = self.json()
        except ValueError:
            return None
        return body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None

    def text(self, limit=300) -> str:
        return self.body[:limit].decode("utf-8", "replace")


def build(req: Req, ctx) -> tuple[bytes | None, dict]:
    headers = {k: (v.format_map(ctx) if isinstance(v, str) else v) for k, v in req.headers.items()}
    body, natural = None, None
    if req.parts is not None:
        body, natural = multipart(req.parts, ctx), f"multipart/form-data; boundary={BOUNDARY}"
    elif req.json is not None:
        value = req.json(ctx) if callable(req.json) else req.json
        body = value if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False).encode()
        natural = "application/json"
    elif req.raw is not None:
        body = req.raw(ctx) if callable(req.raw) else req.raw
    content_type = natural if req.content_type is None else req.content_type
    if content_type:
        headers["Content-Type"] = content_type
    return body, headers


def send(base_url: str, req: Req, ctx) -> list[Answer]:
    """The answers to `req` (sent `repeat` times, the same bytes each time); a transport failure or timeout is an
    Answer with status 0 and the exception as its body."""
    body, headers = build(req, ctx)
    path = req.path.format_map(ctx)
    answers = []
    for _ in range(req.repeat):
        try:
            answers.append(request(base_url, req.method, path, body, headers, chunked=req.chunked,
                                   declared_length=req.declared_length, timeout=req.timeout))
        except Exception as exc:  # noqa: BLE001 — reported as the case's answer
            answers.append(Answer(0, {}, f"{type(exc).__name__}: {exc}".encode()))
    return answers


def request(base_url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            chunked: bool = False, declared_length: int | None = None, timeout: float = 15.0) -> Answer:
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        headers = dict(headers or {})
        if declared_length is not None:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for key, value in headers.items():
                connection.putheader(key, value)
            connection.putheader("Content-Length", str(declared_length))
            connection.endheaders()
            try:
                connection.send(body or b"")
            except OSError:
                pass                        # the server may answer and close before reading
        elif chunked:
            size = 64 * 1024
            connection.request(method, path, body=(body[i:i + size] for i in range(0, len(body), size)),
                               headers=headers, encode_chunked=True)
        else:
            if body is None and method in ("POST", "PUT", "PATCH"):
                headers.setdefault("Content-Length", "0")
            connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


# ---- demo tokens ----------------------------------------------------------------------------------------------------
def agency_entries(tokens: dict) -> list[tuple[str | None, str, dict]]:
    """(pack or None, agency id, {"agency_staff", "agency_leader"}) for both token layouts:
    {"<agency>": {roles}} and {"<pack>": {"<agency>": {roles}}}."""
    entries = []
    for key, value in tokens.items():
        if key in ("operator", "admin") or not isinstance(value, dict):
            continue
        if all(isinstance(v, str) for v in value.values()):
            entries.append((None, key, value))
        else:
            entries += [(key, agency, roles) for agency, roles in value.items() if isinstance(roles, dict)]
    return entries


def agency_token(tokens: dict, agency: str, role: str = "agency_staff", pack: str | None = None) -> str:
    for entry_pack, entry_agency, roles in agency_entries(tokens):
        if entry_agency == agency and (entry_pack is None or pack is None or entry_pack == pack):
            return roles[role]
    raise KeyError(f"no {role} token for {agency} ({pack})")


def other_agency(tokens: dict, pack: str, not_these: set[str]) -> str:
    """An agency of the same pack (or, in the flat layout, any agency) that is not one of `not_these`."""
    for entry_pack, agency, _ in sorted(agency_entries(tokens), key=lambda e: (str(e[0]), e[1])):
        if agency not in not_these and entry_pack in (None, pack):
            return agency
    raise KeyError("no other agency")


def other_pack_agency(tokens: dict, pack: str, agency_packs: dict[str, set[str]],
                      prefer: str | None = None) -> tuple[str | None, str]:
    """(pack, agency) of an agency of another province. In the nested layout, `prefer` (the same agency id in another
    pack) when it exists; in the flat layout an agency that exists in other packs only."""
    entries = sorted(agency_entries(tokens), key=lambda e: (e[1] != prefer, str(e[0]), e[1]))
    for entry_pack, agency, _ in entries:
        if entry_pack is not None and entry_pack != pack:
            return entry_pack, agency
    for entry_pack, agency, _ in entries:
        if pack not in agency_packs.get(agency, {pack}):
            return min(agency_packs[agency]), agency
    raise KeyError("no agency of another pack")
