"""The channels a notification leaves by: e-mail (SMTP), SMS and Zalo ZNS gateways and the agencies' webhook
(HTTP). Each send either returns or raises SendFailed, saying whether trying again can help."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from paht import settings

SMTP_TIMEOUT_S = 10
HTTP_TIMEOUT_S = (5, 10)          # connect, read
RETRYABLE_HTTP = (408, 425, 429)  # 4xx answers that mean "not now" rather than "never"


class SendFailed(Exception):
    """`permanent`: the other side refused this message for good (a 4xx, a 5xx SMTP reply); else try again."""

    def __init__(self, reason: str, permanent: bool):
        super().__init__(reason)
        self.reason, self.permanent = reason, permanent


def send(channel: str, message: dict) -> None:
    """Send one outbox message on its channel (the endpoint read from the settings now)."""
    if channel == "email":
        send_email(settings.smtp_url(), settings.mail_from(), message)
        return
    url = {"sms": settings.sms_url, "zalo": settings.zalo_url, "agency_webhook": settings.agency_webhook_url}[channel]()
    if not url:
        raise SendFailed(f"{channel}: its endpoint is no longer configured", permanent=False)
    post_json(url, message)


def smtp_parts(url: str) -> dict:
    """smtp://[user:password@]host[:port][?starttls=1] → its parts (port 25 by default)."""
    parts = urlsplit(url)
    if parts.scheme != "smtp" or not parts.hostname:
        raise SendFailed(f"PAHT_SMTP_URL is not smtp://host:port ({parts.scheme}://…)", permanent=False)
    query = parse_qs(parts.query)
    return {"host": parts.hostname, "port": parts.port or 25,
            "user": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "starttls": (query.get("starttls") or ["0"])[0].lower() in ("1", "true", "yes")}


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
        with smtplib.SMTP(server["host"], server["port"], timeout=SMTP_TIMEOUT_S) as smtp:
            if server["starttls"]:
                smtp.starttls()
            if server["user"]:
                smtp.login(server["user"], server["password"] or "")
            smtp.send_message(email_message(sender, message))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendFailed(f"SMTP refused the recipient: {codes}", permanent=all(c >= 500 for c in codes)) from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise SendFailed(f"SMTP {exc.smtp_code}: {text[:300]}", permanent=exc.smtp_code >= 500) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"SMTP {type(exc).__name__}: {exc}", permanent=False) from None


def post_json(url: str, payload: dict) -> None:
    try:
        answer = requests.post(url, json=payload, timeout=HTTP_TIMEOUT_S)
    except requests.RequestException as exc:
        raise SendFailed(f"{type(exc).__name__}: {exc}"[:500], permanent=False) from None
    if answer.status_code < 300:
        return
    reason = f"HTTP {answer.status_code}: {answer.text[:300]}"
    raise SendFailed(reason, permanent=400 <= answer.status_code < 500
                     and answer.status_code not in RETRYABLE_HTTP)
