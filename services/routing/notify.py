"""The outbound notification of an immediate case (standing in for the automatic call/SMS to the agency), signed
like every webhook (paht.webhooks)."""
from __future__ import annotations

import logging
import time

import requests

from paht import webhooks
from paht.metrics import NOTIFICATION_ATTEMPT_FAILURES, NOTIFICATIONS

log = logging.getLogger(__name__)


def notify(url: str, payload: dict, attempts: int = 3, backoff_s: float = 0.5, timeout_s: float = 5.0,
           session=None) -> dict:
    """POST `payload` to `url`, retrying; returns {"delivered", "attempts", "status", "error"}."""
    error = None
    for attempt in range(1, attempts + 1):
        try:
            answer = webhooks.post(url, payload, timeout=timeout_s, session=session)
            if answer.status_code < 300:
                NOTIFICATIONS.labels("webhook", "delivered").inc()
                return {"delivered": True, "attempts": attempt, "status": answer.status_code, "error": None}
            error = f"HTTP {answer.status_code}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        log.warning("webhook %s attempt %d failed: %s", url, attempt, error)
        NOTIFICATION_ATTEMPT_FAILURES.labels("webhook").inc()
        if attempt < attempts:
            time.sleep(backoff_s * 2 ** (attempt - 1))
    NOTIFICATIONS.labels("webhook", "failed").inc()
    return {"delivered": False, "attempts": attempts, "status": None, "error": error}
