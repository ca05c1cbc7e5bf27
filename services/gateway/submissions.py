"""What the door knows of a submission before the record takes it: who is reporting (for rate limits) and its
fingerprint (a retry under the same idempotency key must be the same submission)."""
from __future__ import annotations

import hashlib
import json

from paht.schemas import ReportIn


def reporter_key(report_in: ReportIn) -> str | None:
    """Who is reporting, for rate limits: the account, else the phone, else the e-mail."""
    reporter = report_in.reporter
    return reporter.phone or reporter.account_id or reporter.email


def fingerprint(report_in: ReportIn, files) -> str:
    """The same submission sent again has the same fingerprint (report part and media bytes)."""
    digest = hashlib.sha256(json.dumps(report_in.model_dump(mode="json"), sort_keys=True).encode())
    for _name, _kind, _mime, data in files:
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()
