"""What the door knows of a submission before the record takes it: who is reporting (for rate limits), whether
their account is signed in (the credential itself never reaches the record), and its fingerprint (a retry under
the same idempotency key must be the same submission)."""
from __future__ import annotations

import hashlib
import json

from paht import accounts
from paht.schemas import ReportIn, Reporter


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


def account_verified(reporter: Reporter) -> bool:
    """The account counts as signed in only with a valid proof: the citizens' identity provider's token for it
    (`account_token`) or the sign-in service's HMAC (`account_proof`)."""
    return accounts.verified(reporter.account_id, reporter.account_proof, reporter.account_token)


def without_credentials(submission, exclude_unset: bool = False) -> dict:
    """A submission (or supplement) as the record takes it: the reporter's account proof and token left out."""
    return submission.model_dump(mode="json", exclude_unset=exclude_unset,
                                 exclude={"reporter": {"account_proof", "account_token"}})
