"""A stand-in identity provider for tests: RSA keys, tokens signed with them, and its JWKS served over HTTP by a
thread on 127.0.0.1 (as Keycloak serves /protocol/openid-connect/certs). With `discoverable=True` its issuer is its
own address and it is a whole OpenID Connect provider for the portal's sign-in: the discovery document, an
authorization endpoint that signs in `signs_in` (the claims of the user at the keyboard) and redirects back with a
code — or, with `accounts` (username → claims) instead, shows a sign-in page (a browser types the username and
PASSWORD) — and a token endpoint that checks the code (once), the redirect URI, the client and the PKCE verifier and
gives an ID token with the nonce. `down` makes every endpoint answer 503."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from paht import oidc, oidc_login

ISSUER = "https://sso.example.vn/realms/hue"
AUDIENCE = "paht"
CLIENT_ID, CLIENT_SECRET = "paht-portal", "bi-mat-cua-cong"
PASSWORD = "mat-khau-dinh-danh"   # of every account of an interactive provider

SIGN_IN_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Hệ thống định danh</title></head>
<body><main><h1>Hệ thống định danh của tỉnh</h1>{notice}
<form method="post" action="/realms/hue/login">
<input type="hidden" name="request" value="{request}">
<label for="idp-username">Tên đăng nhập</label><input id="idp-username" name="username" autocomplete="username">
<label for="idp-password">Mật khẩu</label><input id="idp-password" name="password" type="password">
<button type="submit" id="idp-submit">Đăng nhập</button>
</form></main></body></html>"""


class Provider:
    def __init__(self, issuer: str = ISSUER, audience: str = AUDIENCE, discoverable: bool = False,
                 client_id: str = CLIENT_ID, client_secret: str | None = CLIENT_SECRET):
        self.audience = audience
        self.client_id, self.client_secret = client_id, client_secret
        self.keys: dict[str, object] = {}
        self.published: list[str] = []
        self.requests = 0                       # JWKS fetches
        self.calls: list[tuple[str, str]] = []  # (method, path) of every request
        self.codes: dict[str, dict] = {}        # code → what the authorization asked, and whether it was used
        self.signs_in: dict | None = None       # the claims of the user who signs in at the authorization endpoint
        self.accounts: dict[str, dict] = {}     # or: the sign-in page's accounts, username → claims
        self.denies = False                     # the user refuses (error=access_denied)
        self.id_token_claims: dict = {}         # claims the token endpoint sets over the right ones (a bad provider)
        self.down = False
        self.add_key("k1")
        # a thread per connection: a browser's idle preconnection must not hold the token endpoint up
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = f"{self.base}/realms/hue" if discoverable else issuer
        self.jwks_url = f"{self.base}/certs"

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, status: int, body: dict | str | None = None, location: str | None = None):
                text = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
                data = text.encode()
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "text/html; charset=utf-8" if isinstance(body, str)
                                 else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = urlsplit(self.path)
                provider.calls.append(("GET", parts.path))
                if provider.down:
                    return self.answer(503, {"error": "temporarily_unavailable"})
                if parts.path == "/certs":
                    provider.requests += 1
                    return self.answer(200, provider.jwks())
                if parts.path == "/realms/hue/.well-known/openid-configuration":
                    return self.answer(200, provider.discovery())
                if parts.path == "/realms/hue/auth":
                    status, where = provider.authorize({k: v[0] for k, v in parse_qs(parts.query).items()})
                    if status == 200:
                        return self.answer(200, SIGN_IN_PAGE.format(notice="", request=escape(parts.query)))
                    return self.answer(status, None if where else {"error": "invalid_request"}, where)
                return self.answer(404, {"error": "not_found"})

            def do_POST(self):
                provider.calls.append(("POST", urlsplit(self.path).path))
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if provider.down:
                    return self.answer(503, {"error": "temporarily_unavailable"})
                if urlsplit(self.path).path == "/realms/hue/login":
                    return self.answer(*provider.login_page(form))
                if urlsplit(self.path).path != "/realms/hue/token":
                    return self.answer(404, {"error": "not_found"})
                return self.answer(*provider.token_endpoint(form, self.headers.get("Authorization", "")))

            def log_message(self, *args):
                pass

        return Handler

    # ---- the OpenID Connect endpoints (discoverable providers) ------------------------------------------------
    def discovery(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.base}/realms/hue/auth",
                "token_endpoint": f"{self.base}/realms/hue/token", "jwks_uri": self.jwks_url,
                "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"]}

    def authorize(self, asked: dict) -> tuple[int, str | None]:
        """(status, where to) for an authorization request: back to its redirect URI with a code (or the error)."""
        back = asked.get("redirect_uri", "")
        if asked.get("client_id") != self.client_id or not back.startswith("http"):
            return 400, None
        def to(**query):
            return 302, f"{back}{'&' if '?' in back else '?'}{urlencode(dict(query, state=asked.get('state', '')))}"
        if (asked.get("response_type") != "code" or asked.get("code_challenge_method") != "S256"
                or not asked.get("code_challenge") or "openid" not in asked.get("scope", "").split()):
            return to(error="invalid_request")
        if self.signs_in is None and self.accounts and not self.denies:
            return 200, None                    # the sign-in page; its POST goes on in login_page
        if self.denies or self.signs_in is None:
            return to(error="access_denied", error_description="the user said no")
        return to(code=self.new_code(asked, self.signs_in))

    def new_code(self, asked: dict, claims: dict) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"asked": asked, "claims": dict(claims), "used": False}
        return code

    def login_page(self, form: dict) -> tuple:
        """The sign-in page's POST: back to the portal with a code for a right username and PASSWORD."""
        request = form.get("request", "")
        asked = {k: v[0] for k, v in parse_qs(request).items()}
        claims = self.accounts.get(form.get("username", ""))
        if claims is None or form.get("password") != PASSWORD:
            return 200, SIGN_IN_PAGE.format(notice='<p role="alert">Sai tên đăng nhập hoặc mật khẩu.</p>',
                                            request=escape(request))
        back = asked["redirect_uri"]
        query = urlencode({"code": self.new_code(asked, claims), "state": asked.get("state", "")})
        return 302, None, f"{back}{'&' if '?' in back else '?'}{query}"

    def token_endpoint(self, form: dict, authorization: str) -> tuple[int, dict]:
        if self.client_secret is not None:
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            if authorization != f"Basic {expected}":
                return 401, {"error": "invalid_client"}
        grant = self.codes.get(form.get("code", ""))
        if form.get("grant_type") != "authorization_code" or grant is None or grant["used"]:
            return 400, {"error": "invalid_grant", "error_description": "the code is not valid (or was used)"}
        grant["used"] = True
        asked = grant["asked"]
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if form.get("redirect_uri") != asked["redirect_uri"] or challenge != asked["code_challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri or code_verifier"}
        claims = dict(grant["claims"])
        subject = claims.pop("sub", "u-1")
        id_token = self.token(subject, **{"aud": self.client_id, "nonce": asked.get("nonce"), **claims,
                                          **self.id_token_claims})
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                     "id_token": id_token}

    def add_key(self, kid: str, publish: bool = True):
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if publish:
            self.published.append(kid)
        return self.keys[kid]

    def jwks(self) -> dict:
        keys = []
        for kid in self.published:
            data = json.loads(RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
            keys.append(dict(data, kid=kid, use="sig", alg="RS256"))
        return {"keys": keys}

    def token(self, subject: str = "u-1", kid: str = "k1", key=None, lifetime: float = 300, **claims) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": self.audience, "sub": subject, "iat": now, "exp": now + lifetime,
                   **claims}
        return jwt.encode(payload, key or self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def env(self, prefix: str = "PAHT_OIDC") -> dict:
        return {f"{prefix}_ISSUER": self.issuer, f"{prefix}_JWKS_URL": self.jwks_url,
                f"{prefix}_AUDIENCE": self.audience}

    def sign_in_env(self) -> dict:
        """The staff provider and the portal's client at it (the redirect URI is the test's to set)."""
        return dict(self.env(), PAHT_OIDC_CLIENT_ID=self.client_id, PAHT_OIDC_CLIENT_SECRET=self.client_secret or "")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def stranger_key():
    """A key no provider published."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def provider(monkeypatch):
    """A staff identity provider serving its JWKS on loopback, configured for the services (PAHT_OIDC_*)."""
    idp = Provider()
    for name, value in idp.env().items():
        monkeypatch.setenv(name, value)
    oidc.JWKS.clear()
    yield idp
    idp.close()
    oidc.JWKS.clear()


@pytest.fixture
def sign_in_provider(monkeypatch):
    """A whole OpenID Connect provider on loopback, configured for the portal's staff sign-in (PAHT_OIDC_* and
    PAHT_OIDC_CLIENT_ID/_SECRET)."""
    idp = Provider(discoverable=True)
    for name, value in idp.sign_in_env().items():
        monkeypatch.setenv(name, value)
    oidc.JWKS.clear()
    oidc_login.DISCOVERY.clear()
    yield idp
    idp.close()
    oidc.JWKS.clear()
    oidc_login.DISCOVERY.clear()
