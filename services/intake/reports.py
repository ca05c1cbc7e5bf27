"""Intake's domain: building a report from a validated submission, the reporter's own decisions, and what of it
the bus may carry (its views: views.py)."""
from __future__ import annotations

import uuid
from datetime import datetime

from paht.errors import ApiError
from paht.schemas import Decision, MediaRecord, ReportIn, SupplementIn, reporter_summary
from paht.tokens import hash_token

# states in which the reporter may still cancel: before an agency acknowledges the report
CANCELLABLE = ("submitted", "needs_supplement", "accepted", "routing_unresolved", "dispatched")


def reporter_record(reporter, account_verified: bool) -> dict:
    """The reporter as stored: whether the account is signed in is the gateway's finding (a valid proof — the
    citizens' identity provider's token for it or the sign-in service's HMAC: paht.accounts), kept as a flag;
    neither credential reaches the record."""
    record = reporter.model_dump(exclude={"account_proof", "account_token"})
    record["account_verified"] = account_verified
    return record


def result_photos(report: dict, cited: list[str], uploaded: list[str]) -> list[str]:
    """The photos of the fixed scene: exactly the files uploaded with this action (their SHA-256). Citing anything
    else (a made-up hash, the reporter's own media, an earlier upload) is refused."""
    own = {m.get("sha256") for m in report.get("media") or []}
    if any(sha not in uploaded for sha in cited) or own.intersection(uploaded):
        raise ApiError("INVALID_RESULT_PHOTOS", fields={"after_photos": "only photos uploaded with this action"})
    return list(uploaded)


def new_report(report_in: ReportIn, media: list[MediaRecord], now: datetime, report_id: str,
               tracking_token: str, account_verified: bool = False) -> dict:
    # a report a channel stores (channel_schemas.EnteredReport) says who entered it and when the caller reported
    entered_by, received_at = getattr(report_in, "entered_by", None), getattr(report_in, "received_at", None)
    actor = {"role": "reporter", "channel": report_in.channel} | ({"entered_by": entered_by} if entered_by else {})
    return {
        "_id": report_id,
        "pack": report_in.pack,
        "channel": report_in.channel,
        "reporter": reporter_record(report_in.reporter, account_verified),
        "description": report_in.description,
        "category": report_in.category,
        "category_source": "reporter" if report_in.category else None,
        "location": report_in.location.model_dump() if report_in.location else None,
        "urgent": report_in.urgent or report_in.sos,
        "keep_private": report_in.keep_private,
        "media": [m.model_dump() for m in media],
        "state": "submitted",
        "submitted_at": now,
        "updated_at": now,
        "tracking_token_hash": hash_token(tracking_token),
        "reasons": [],
        "warnings": [],
        "ward": None,
        "assigned_agencies": [],
        "deadlines": {},
        "timeline": [{"at": now, "kind": "submitted", "source": "intake", "from": None, "to": "submitted",
                      "actor": actor, "detail": {"received_at": received_at} if received_at else {},
                      "event_id": None}],
        "applied_events": [],
        "version": 0,
    } | ({"follows": report_in.follows} if report_in.follows else {}) | ({"sos": True} if report_in.sos else {}) \
        | ({"entered_by": entered_by} if entered_by else {}) | ({"received_at": received_at} if received_at else {})


def supplement_decision(report: dict, supplement: SupplementIn, media: list[MediaRecord], now: datetime,
                        account_verified: bool = False) -> Decision:
    """The reporter's answer to `needs_supplement`: merged into the report, which goes back to verification."""
    patch = {"reasons": [], "warnings": []}
    if supplement.reporter is not None:
        merged = dict(report.get("reporter") or {})
        given = reporter_record(supplement.reporter, account_verified)
        merged.update({k: v for k, v in given.items() if v is not None and k != "account_verified"})
        if supplement.reporter.account_id:
            merged["account_verified"] = given["account_verified"]
        patch["reporter"] = merged
    if supplement.description is not None:
        patch["description"] = supplement.description
        if (report.get("original_text") or {}).get("description") is not None:   # the reporter's new text: original
            patch["original_text"] = {k: v for k, v in report["original_text"].items() if k != "description"}
    if supplement.location is not None:
        patch["location"] = supplement.location.model_dump()
    if media:
        patch["media"] = list(report.get("media", [])) + [m.model_dump() for m in media]
    return Decision(report_id=report["_id"], occurred_at=now, pack=report["pack"], kind="supplemented",
                    source="intake", to_state="submitted", from_states=["needs_supplement"],
                    actor={"role": "reporter"},
                    detail={"fields": sorted(k for k in patch if k not in ("reasons", "warnings")),
                            "media_added": len(media)},
                    patch=patch)


def cancel_decision(report: dict, now: datetime, article: str | None) -> Decision:
    reason = {"code": "CANCELLED_BY_REPORTER", "rule": None, "article": article,
              "message": "Người phản ánh đã hủy phản ánh trước khi cơ quan tiếp nhận xử lý.",
              "message_en": "Cancelled by the reporter before an agency took it up."}
    return Decision(report_id=report["_id"], occurred_at=now, pack=report["pack"], kind="cancelled", source="intake",
                    to_state="cancelled", from_states=list(CANCELLABLE), actor={"role": "reporter"},
                    patch={"reasons": [reason]})


def new_event_id() -> str:
    return uuid.uuid4().hex


def snapshot(report: dict) -> dict:
    """The report as other services see it on the bus and in RPC calls: no token hash, no bookkeeping, and of
    the reporter only what decisions need (paht.schemas.reporter_summary), never their name or contacts."""
    hidden = ("_id", "tracking_token_hash", "applied_events", "timeline", "reporter", "next_due")
    return {"id": report["_id"], **{k: v for k, v in report.items() if k not in hidden},
            "reporter": reporter_summary(report.get("reporter") or {})}


REPORTER_TEXT = ("message", "comment")   # what a reporter's own timeline entries may carry in their detail


def forget_reporter(report: dict) -> dict:
    """The fields a report keeps once its retention period ended (pack.yaml publication.retention_days): no
    reporter, text, place or files, no rating comment or messages, and no tracking token (the reporter can no
    longer act on it). State, timeline steps, ward, category, route, deadlines and result stay."""
    facts = report.get("facts")
    if facts:
        facts = {**facts, **{k: None for k in ("lat", "lon", "gps_distance_m") if k in facts}}
    rating = report.get("rating")
    timeline = [{**entry, "detail": {k: v for k, v in (entry.get("detail") or {}).items() if k not in REPORTER_TEXT}}
                if (entry.get("actor") or {}).get("role") == "reporter" else entry
                for entry in report.get("timeline") or []]
    return {"reporter": {}, "description": None, "title": None, "original_text": None, "location": None, "media": [],
            "facts": facts,
            "rating": {**rating, "comment": None} if rating else rating, "timeline": timeline,
            "tracking_token_hash": ""}
