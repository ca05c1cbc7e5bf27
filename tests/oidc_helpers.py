"""A stand-in identity provider for tests: RSA keys, tokens signed with them, and its JWKS served over HTTP by a
thread on 127.0.0.1 (as Keycloak serves /protocol/openid-connect/certs)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from paht import oidc

ISSUER = "https://sso.example.vn/realms/hue"
AUDIENCE = "paht"


class Provider:
    def __init__(self, issuer: str = ISSUER, audience: str = AUDIENCE):
        self.issuer, self.audience = issuer, audience
        self.keys: dict[str, object] = {}
        self.published: list[str] = []
        self.requests = 0
        self.add_key("k1")
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                provider.requests += 1
                body = json.dumps(provider.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.jwks_url = f"http://127.0.0.1:{self.server.server_address[1]}/certs"

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
