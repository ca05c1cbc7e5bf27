"""Issue 20 item 6: nothing outside talks to an unverified peer. Real servers on loopback: aiosmtpd speaking TLS
(STARTTLS and SMTPS) with a certificate from a CA made here, and local HTTP servers standing in for the agencies'
webhooks and the SMS and Zalo ZNS gateways."""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import socket
import ssl
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from paht import clock, webhooks
from paht.embedded import Database
from services.publishing import senders
from services.publishing.notify import deliver
from services.publishing.notify_store import NotificationStore
from tests.webhook_check import documented_check

ROOT = Path(__file__).resolve().parents[2]
SECRET = "paht-tests-webhook-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- a province's internal CA and its mail relay ---------------------------------------------------------------
def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, ca: bool, names=()):
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
               .not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _pem(certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


class Relay:
    """The CA bundle a province would put in PAHT_SMTP_CA_FILE, and server contexts for certificates it signed."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _certificate(_name("Tỉnh CA nội bộ (tests)"), _name("Tỉnh CA nội bộ (tests)"),
                               self.ca_key.public_key(), self.ca_key, ca=True)
        self.ca_file = folder / "province-ca.pem"
        self.ca_file.write_bytes(_pem(self.ca))

    def server_context(self, *names) -> ssl.SSLContext:
        """A server context whose certificate, signed by the CA, names `names` (IP addresses or DNS names)."""
        key = ec.generate_private_key(ec.SECP256R1())
        alt = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
        leaf = _certificate(_name(names[0]), self.ca.subject, key.public_key(), self.ca_key, ca=False, names=alt)
        cert_file, key_file = self.folder / f"{names[0]}.pem", self.folder / f"{names[0]}.key"
        cert_file.write_bytes(_pem(leaf))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        return context


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's naming
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def relay(tmp_path):
    return Relay(tmp_path)


@pytest.fixture
def smtp_server():
    """smtp_server(mode, context) → (mailbox, port); mode: starttls (STARTTLS required), smtps, plain."""
    started = []

    def start(mode: str, context: ssl.SSLContext | None = None):
        mailbox = Mailbox()
        tls = {"starttls": {"tls_context": context, "require_starttls": True}, "smtps": {"ssl_context": context},
               "plain": {}}[mode]
        controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **tls)
        controller.start()
        started.append(controller)
        return mailbox, controller.port

    yield start
    for controller in started:
        controller.stop()


MAIL = {"to": "an@example.vn", "subject": "Đã tiếp nhận phản ánh PA-1", "body": "Kính gửi Ông/Bà\n"}


def send_mail(url, monkeypatch, ca_file=None):
    if ca_file:
        monkeypatch.setenv("PAHT_SMTP_CA_FILE", str(ca_file))
    else:
        monkeypatch.delenv("PAHT_SMTP_CA_FILE", raising=False)
    senders.send_email(url, "PAHT <no-reply@paht.local>", MAIL)


@pytest.mark.parametrize("mode, scheme", [("starttls", "smtp://127.0.0.1:{port}?starttls=1"),
                                          ("smtps", "smtps://127.0.0.1:{port}")])
def test_tls_to_the_relay_delivers_with_the_provinces_ca(relay, smtp_server, monkeypatch, mode, scheme):
    mailbox, port = smtp_server(mode, relay.server_context("127.0.0.1"))
    send_mail(scheme.format(port=port), monkeypatch, relay.ca_file)
    (received,) = mailbox.messages
    assert received["Subject"] == MAIL["subject"] and received["To"] == MAIL["to"]


@pytest.mark.parametrize("mode, scheme", [("starttls", "smtp://127.0.0.1:{port}?starttls=1"),
                                          ("smtps", "smtps://127.0.0.1:{port}")])
def test_tls_to_a_relay_whose_certificate_is_not_trusted_is_refused(relay, smtp_server, monkeypatch, mode, scheme):
    mailbox, port = smtp_server(mode, relay.server_context("127.0.0.1"))
    with pytest.raises(senders.SendFailed) as refused:
        send_mail(scheme.format(port=port), monkeypatch)              # the system's CAs do not know the province's
    assert not refused.value.permanent and "not trusted" in refused.value.reason
    assert "PAHT_SMTP_CA_FILE" in refused.value.reason and mailbox.messages == []


def test_the_relays_host_name_is_verified_too(relay, smtp_server, monkeypatch):
    mailbox, port = smtp_server("smtps", relay.server_context("relay.example.invalid"))
    with pytest.raises(senders.SendFailed) as refused:
        send_mail(f"smtps://127.0.0.1:{port}", monkeypatch, relay.ca_file)   # a trusted CA, another host's name
    assert "not trusted" in refused.value.reason and mailbox.messages == []


def test_a_relay_that_offers_no_starttls_gets_nothing_in_clear(smtp_server, monkeypatch):
    mailbox, port = smtp_server("plain")
    with pytest.raises(senders.SendFailed) as refused:
        send_mail(f"smtp://127.0.0.1:{port}?starttls=1", monkeypatch)
    assert not refused.value.permanent and "STARTTLS" in refused.value.reason and mailbox.messages == []


def test_smtps_defaults_to_port_465_and_ignores_starttls():
    parts = senders.smtp_parts("smtps://paht%40tinh:pw@relay.example.vn")
    assert (parts["port"], parts["implicit_tls"], parts["starttls"], parts["user"]) == (465, True, False, "paht@tinh")


def test_an_untrusted_relay_is_a_failed_attempt_that_the_notifier_records_and_retries(relay, smtp_server,
                                                                                     monkeypatch):
    mailbox, port = smtp_server("starttls", relay.server_context("127.0.0.1"))
    monkeypatch.setenv("PAHT_SMTP_URL", f"smtp://127.0.0.1:{port}?starttls=1")
    monkeypatch.delenv("PAHT_SMTP_CA_FILE", raising=False)
    store = NotificationStore(Database(":memory:"))
    now = clock.now()
    store.enqueue({"_id": "ev-1|reporter|email", "event_id": "ev-1", "report_id": "PA-1", "pack": "p",
                   "template": "received", "recipient": "reporter", "channel": "email", "to": MAIL["to"],
                   "to_masked": "a***@example.vn", "message": MAIL, "status": "pending", "attempts": 0, "round": 1,
                   "next_at": now, "created_at": now, "last_error": None, "reported": False})
    (entry,) = store.claim(now)
    deliver(store, entry, 6)
    failed = store.get(entry["_id"])
    assert failed["status"] == "pending" and failed["attempts"] == 1 and failed["next_at"] > now
    assert "not trusted" in failed["last_error"] and mailbox.messages == []

    monkeypatch.setenv("PAHT_SMTP_CA_FILE", str(relay.ca_file))      # the operator adds the province's CA
    deliver(store, failed, 6)
    assert store.get(entry["_id"])["status"] == "sent" and len(mailbox.messages) == 1


# ---- local HTTP servers: the agencies' systems and the gateways ------------------------------------------------
class Receiver(BaseHTTPRequestHandler):
    calls: list = []
    answer: bytes = b""

    def do_POST(self):  # noqa: N802 — http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(type(self).answer)))
        self.end_headers()
        self.wfile.write(type(self).answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.calls, Receiver.answer = [], b""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Receiver, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def verified(call, secret=SECRET, now=None) -> bool:
    headers = call["headers"]
    return documented_check()(secret.encode(), call["body"], headers.get(webhooks.TIMESTAMP_HEADER),
                              headers.get(webhooks.SIGNATURE_HEADER), now)


AGENCY_MESSAGE = {"event": "assigned", "report_id": "PA-1", "pack": "thua-thien-hue-2022", "agency": "so-xay-dung",
                  "text": "Ổ gà lớn giữa đường Lê Lợi", "link": "https://paht.example.vn/reports/PA-1"}


def test_the_agency_webhook_is_signed_and_the_documented_check_accepts_it(receiver, monkeypatch):
    server, base = receiver
    monkeypatch.setenv("PAHT_AGENCY_WEBHOOK_URL", f"{base}/agency")
    monkeypatch.setenv("PAHT_WEBHOOK_SECRET", SECRET)
    senders.send("agency_webhook", AGENCY_MESSAGE)
    (call,) = server.calls
    assert json.loads(call["body"]) == AGENCY_MESSAGE and verified(call)
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", call["headers"][webhooks.SIGNATURE_HEADER])


def test_the_immediate_case_webhook_is_signed_the_same_way(receiver, monkeypatch):
    server, base = receiver
    monkeypatch.setenv("PAHT_IMMEDIATE_WEBHOOK", f"{base}/immediate")
    monkeypatch.setenv("PAHT_WEBHOOK_SECRET", SECRET)
    payload = {"report_id": "PA-2", "category": "fire_rescue", "lead": "cong-an", "co": [], "description": "Cháy"}
    senders.send("immediate_webhook", payload)
    (call,) = server.calls
    assert call["path"] == "/immediate"
    assert json.loads(call["body"]) == payload and verified(call)


def test_the_check_refuses_a_forgery_a_tampered_body_and_a_stale_call(receiver, monkeypatch):
    server, base = receiver
    monkeypatch.setenv("PAHT_AGENCY_WEBHOOK_URL", f"{base}/agency")
    monkeypatch.setenv("PAHT_WEBHOOK_SECRET", SECRET)
    senders.send("agency_webhook", AGENCY_MESSAGE)
    (call,) = server.calls
    sent_at = int(call["headers"][webhooks.TIMESTAMP_HEADER])
    assert not verified(call, secret="another-secret")
    assert not verified(dict(call, body=call["body"].replace(b"PA-1", b"PA-9")))
    assert verified(call, now=sent_at + 299) and not verified(call, now=sent_at + 301)
    assert not verified(call, now=sent_at - 301)                       # nor signed ahead of the receiver's clock
    unsigned = dict(call, headers={k: v for k, v in call["headers"].items() if not k.startswith("X-PAHT")})
    assert not verified(unsigned)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac
    body = webhooks.encode({"report_id": "PA-1", "text": "Đường Lê Lợi"})
    assert body == '{"report_id":"PA-1","text":"Đường Lê Lợi"}'.encode()
    headers = webhooks.signed_headers(body, b"k", now=1764900000)
    assert headers[webhooks.TIMESTAMP_HEADER] == "1764900000"
    assert headers[webhooks.SIGNATURE_HEADER] == \
        "sha256=" + hmac.new(b"k", b"1764900000." + body, hashlib.sha256).hexdigest()
    assert webhooks.TIMESTAMP_HEADER not in webhooks.signed_headers(body, None)


def test_signing_lives_in_one_place():
    """Routing's and publishing's webhooks both go through paht.webhooks; no second copy of the scheme."""
    holders = [path.relative_to(ROOT).as_posix() for folder in ("paht", "services")
               for path in (ROOT / folder).rglob("*.py") if "X-PAHT-Signature" in path.read_text(encoding="utf-8")]
    assert holders == ["paht/webhooks.py"]


def test_the_sms_gateway_gets_its_api_key_as_a_bearer_token(receiver, monkeypatch):
    server, base = receiver
    monkeypatch.setenv("PAHT_SMS_URL", f"{base}/sms")
    monkeypatch.setenv("PAHT_SMS_API_KEY", "sms-key-123")
    senders.send("sms", {"to": "0905123456", "text": "PA-1 đã được tiếp nhận"})
    monkeypatch.delenv("PAHT_SMS_API_KEY")
    senders.send("sms", {"to": "0905123456", "text": "PA-1 đã được tiếp nhận"})
    keyed, bare = server.calls
    assert keyed["headers"]["Authorization"] == "Bearer sms-key-123" and "Authorization" not in bare["headers"]


def test_zalo_zns_gets_the_access_token_header_and_its_refusals_are_failures(receiver, monkeypatch):
    server, base = receiver
    monkeypatch.setenv("PAHT_ZALO_URL", f"{base}/zalo")
    monkeypatch.setenv("PAHT_ZALO_ACCESS_TOKEN", "zalo-oa-token")
    message = {"phone": "84905123456", "template_id": "paht-received", "template_data": {"report_id": "PA-1"}}
    server.answer = json.dumps({"error": 0, "message": "Success", "data": {"msg_id": "m1"}}).encode()
    senders.send("zalo", message)
    assert server.calls[0]["headers"]["access_token"] == "zalo-oa-token"
    assert json.loads(server.calls[0]["body"]) == message

    server.answer = json.dumps({"error": -124, "message": "Access token is invalid"}).encode()   # HTTP 200
    with pytest.raises(senders.SendFailed) as refused:
        senders.send("zalo", message)
    assert not refused.value.permanent and "-124" in refused.value.reason and "Access token" in refused.value.reason
