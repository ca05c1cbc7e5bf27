"""What the notifier may know of a reporter: the contacts they gave and consented to (the intake RPC
`reporter_contact`, admin_rpc.py)."""
from __future__ import annotations


def reporter_contact(report: dict | None) -> dict | None:
    """The reporter's contacts for notifications about this report: only what they gave, with a consent per
    channel. The reporter has no separate consent to notifications: giving a contact with a report is taken as
    consenting to be told about that report on it (e-mail; the phone for SMS and Zalo; the Zalo account the
    report came from). None once retention purged the reporter's data, or for no report."""
    if report is None or report.get("purged_at"):
        return None
    reporter = report.get("reporter") or {}
    email, phone, zalo_user_id = reporter.get("email"), reporter.get("phone"), reporter.get("zalo_user_id")
    if not (email or phone or zalo_user_id):
        return None
    return {"name": reporter.get("name"), "email": email, "phone": phone, "zalo_user_id": zalo_user_id,
            "consents": {"email": bool(email), "sms": bool(phone), "zalo": bool(phone or zalo_user_id)}}
