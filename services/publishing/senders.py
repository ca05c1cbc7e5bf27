"""The channels a notification leaves by: e-mail (SMTP), SMS and Zalo ZNS gateways, the agencies' webhook and the
immediate case's (HTTP). Each send either returns or raises SendFailed, saying whether trying again can help. Every
peer is verified or authenticated: SMTP's TLS checks the relay's certificate, the gateways get their credentials,
both webhooks are signed (paht.webhooks)."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from paht import settings, webhooks

SMTP_TIMEOUT_S = 10
SMTP_PORTS = {"smtp": 25, "smtps": 465}   # smtps: TLS from the first byte (RFC 8314)
HTTP_TIMEOUT_S = (5, 10)          # connect, read
RETRYABLE_HTTP = (408, 425, 429)  # 4xx answers that mean "not now" rather than "never"


class SendFailed(Exception):
    """`permanent`: the other side refused this message for good (a 4xx, a 5xx SMTP reply); else try again."""

    def __init__(self, reason: str, permanent: bool):
        super().__init__(reason)
        self.reason, self.permanent = reason, permanent


def send(channel: str, message: dict) -> None:
    """Send one outbox message on its channel (the endpoint and credentials read from the settings now)."""
    if channel == "email":
        send_email(settings.smtp_url(), settings.mail_from(), message)
        return
    url = {"sms": settings.sms_url, "zalo": settings.zalo_url, "agency_webhook": settings.agency_webhook_url,
           "immediate_webhook": settings.immediate_webhook_url}[channel]()
    if not url:
        raise SendFailed(f"{channel}: its endpoint is no longer configured", permanent=False)
    if channel in ("agency_webhook", "immediate_webhook"):
        checked(lambda: webhooks.post(url, message, timeout=HTTP_TIMEOUT_S))
    elif channel == "sms":
        post_json(url, message, sms_headers())
    else:
        zns_accepted(post_json(url, message, zalo_headers()))


def sms_headers() -> dict:
    key = settings.sms_api_key()
    return {"Authorization": f"Bearer {key}"} if key else {}


def zalo_headers() -> dict:
    token = settings.zalo_access_token()
    return {"access_token": token} if token else {}


def zns_accepted(answer) -> None:
    """Zalo answers HTTP 200 with `{"error": <non-zero>, "message"}` when it refuses (an expired access token, a
    template not approved): a failure, tried again, never counted as delivered. A proxy's answer without that
    body passes on its status alone."""
    try:
        body = answer.json()
    except ValueError:
        return
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, int) and not isinstance(error, bool) and error != 0:
        raise SendFailed(f"Zalo ZNS error {error}: {str(body.get('message'))[:300]}", permanent=False)


def smtp_parts(url: str) -> dict:
    """smtp://[user:password@]host[:port][?starttls=1] (port 25) or smtps://… (port 465) → its parts."""
    parts = urlsplit(url)
    if parts.scheme not in SMTP_PORTS or not parts.hostname:
        raise SendFailed(f"PAHT_SMTP_URL is not smtp://host:port or smtps://host:port ({parts.scheme}://…)",
                         permanent=False)
    query = parse_qs(parts.query)
    implicit_tls = parts.scheme == "smtps"
    return {"host": parts.hostname, "port": parts.port or SMTP_PORTS[parts.scheme],
            "user": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None, "implicit_tls": implicit_tls,
            "starttls": not implicit_tls and (query.get("starttls") or ["0"])[0].lower() in ("1", "true", "yes")}


def tls_context() -> ssl.SSLContext:
    """Certificate and host name verified, against the system's CAs or only the bundle in PAHT_SMTP_CA_FILE."""
    return ssl.create_default_context(cafile=settings.smtp_ca_file())


def email_message(sender: str, message: dict) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, message["to"], message["subject"]
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    mail.set_content(message["body"], charset="utf-8")
    return mail


def send_email(url: str | None, sender: str, message: dict) -> None:
    if not url:
        raise SendFailed("email: PAHT_SMTP_URL is no longer configured", permanent=False)
    server = smtp_parts(url)
    try:
        tls = tls_context() if server["implicit_tls"] or server["starttls"] else None
        connection = smtplib.SMTP_SSL(server["host"], server["port"], timeout=SMTP_TIMEOUT_S, context=tls) \
            if server["implicit_tls"] else smtplib.SMTP(server["host"], server["port"], timeout=SMTP_TIMEOUT_S)
        with connection as smtp:
            if server["starttls"]:
                smtp.starttls(context=tls)   # a relay that offers no STARTTLS fails here: never sent in clear
            if server["user"]:
                smtp.login(server["user"], server["password"] or "")
            smtp.send_message(email_message(sender, message))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendFailed(f"SMTP refused the recipient: {codes}", permanent=all(c >= 500 for c in codes)) from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise SendFailed(f"SMTP {exc.smtp_code}: {text[:300]}", permanent=exc.smtp_code >= 500) from None
    except ssl.SSLCertVerificationError as exc:
        raise SendFailed(f"SMTP: the certificate of {server['host']} is not trusted ({exc.verify_message}); a "
                         "relay signed by a private CA needs PAHT_SMTP_CA_FILE", permanent=False) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"SMTP {type(exc).__name__}: {exc}", permanent=False) from None


def post_json(url: str, payload: dict, headers: dict | None = None):
    return checked(lambda: requests.post(url, json=payload, headers=headers or {}, timeout=HTTP_TIMEOUT_S))


def checked(post):
    """The answer of `post()` when it is a success; else SendFailed, permanent for a 4xx that means "never"."""
    try:
        answer = post()
    except requests.RequestException as exc:
        raise SendFailed(f"{type(exc).__name__}: {exc}"[:500], permanent=False) from None
    if answer.status_code < 300:
        return answer
    reason = f"HTTP {answer.status_code}: {answer.text[:300]}"
    raise SendFailed(reason, permanent=400 <= answer.status_code < 500
                     and answer.status_code not in RETRYABLE_HTTP)
