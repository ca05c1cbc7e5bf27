"""Intake's domain: building a report from a validated submission, and the views of it."""
from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import datetime

from paht import accounts
from paht.errors import ApiError
from paht.roles import AGENCY_ROLES
from paht.schemas import Decision, MediaRecord, ReportIn, SupplementIn, reporter_summary
from paht.states import RESULT_DELIVERED

# states in which the reporter may still cancel: before an agency acknowledges the report
CANCELLABLE = ("submitted", "needs_supplement", "accepted", "routing_unresolved", "dispatched")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def reporter_record(reporter) -> dict:
    """The reporter as stored: the account counts as signed in only with a valid proof — the citizens' identity
    provider's token for it (`account_token`) or the sign-in service's HMAC (`account_proof`) — kept as a flag;
    neither credential is stored."""
    record = reporter.model_dump(exclude={"account_proof", "account_token"})
    record["account_verified"] = accounts.verified(reporter.account_id, reporter.account_proof,
                                                   getattr(reporter, "account_token", None))
    return record


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


def result_photos(report: dict, cited: list[str], files) -> list[str]:
    """The photos of the fixed scene: exactly the files uploaded with this action. Citing anything else (a made-up
    hash, the reporter's own media, an earlier upload) is refused."""
    uploaded = [hashlib.sha256(data).hexdigest() for _name, _kind, _mime, data in files]
    own = {m.get("sha256") for m in report.get("media") or []}
    if any(sha not in uploaded for sha in cited) or own.intersection(uploaded):
        raise ApiError("INVALID_RESULT_PHOTOS", fields={"after_photos": "only photos uploaded with this action"})
    return uploaded


def new_report_id(now: datetime) -> str:
    return f"PA-{now:%y%m%d}-{secrets.token_hex(4).upper()}"


def new_report(report_in: ReportIn, media: list[MediaRecord], now: datetime, report_id: str,
               tracking_token: str) -> dict:
    # a report a channel stores (channel_schemas.EnteredReport) says who entered it and when the caller reported
    entered_by, received_at = getattr(report_in, "entered_by", None), getattr(report_in, "received_at", None)
    actor = {"role": "reporter", "channel": report_in.channel} | ({"entered_by": entered_by} if entered_by else {})
    return {
        "_id": report_id,
        "pack": report_in.pack,
        "channel": report_in.channel,
        "reporter": reporter_record(report_in.reporter),
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


def supplement_decision(report: dict, supplement: SupplementIn, media: list[MediaRecord], now: datetime) -> Decision:
    """The reporter's answer to `needs_supplement`: merged into the report, which goes back to verification."""
    patch = {"reasons": [], "warnings": []}
    if supplement.reporter is not None:
        merged = dict(report.get("reporter") or {})
        given = reporter_record(supplement.reporter)
        merged.update({k: v for k, v in given.items() if v is not None and k != "account_verified"})
        if supplement.reporter.account_id:
            merged["account_verified"] = given["account_verified"]
        patch["reporter"] = merged
    if supplement.description is not None:
        patch["description"] = supplement.description
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


def _public_timeline(report: dict) -> list[dict]:
    """State changes only; deadlines and annotations stay in the staff timeline."""
    return [{"at": e["at"], "kind": e["kind"], "from": e.get("from"), "to": e["to"]}
            for e in report["timeline"] if e.get("from") != e["to"]]


def interactions(report: dict) -> list[dict]:
    """The reporter's messages on a report and the agency's answers, in order (no reporter data)."""
    found: dict[str, dict] = {}
    for entry in report.get("timeline") or []:
        detail = entry.get("detail") or {}
        if entry["kind"] == "interaction":
            found[entry["event_id"]] = {"id": entry["event_id"], "message": detail.get("message"), "at": entry["at"],
                                        "reply": None, "replied_at": None}
        elif entry["kind"] == "interaction_replied" and detail.get("interaction_id") in found:
            found[detail["interaction_id"]].update(reply=detail.get("note"), replied_at=entry["at"],
                                                   replied_by=detail.get("agency"))
    return list(found.values())


def check_reply(report: dict, interaction_id: str | None) -> None:
    """A reply answers one unanswered message of this report."""
    match = next((item for item in interactions(report) if item["id"] == interaction_id), None)
    if match is None:
        raise ApiError("INTERACTION_NOT_FOUND", fields={"interaction_id": interaction_id})
    if match["replied_at"] is not None:
        raise ApiError("ACTION_NOT_ALLOWED", detail="already answered")


def pending_checks(report: dict) -> list[dict]:
    """The operator's checks a report waits for in `submitted` (verification's holding `warn` rules, kept with
    their status in the report's warnings)."""
    if report["state"] != "submitted":
        return []
    return [{"name": w["check"], "rule": w.get("rule"), "article": w.get("article"), "message": w.get("message")}
            for w in report.get("warnings") or [] if w.get("check") and w.get("status") == "pending"]


def _pack_publication(pack_id: str) -> dict | None:
    from paht.rules import get_pack
    try:
        return get_pack(pack_id).meta.get("publication") or {}
    except KeyError:
        return None


def withheld(report: dict) -> str | None:
    """Why the report's description and result are not public, or None: the centre marked it a state secret or a
    sensitive report received non-publicly, or the reporter asked for secrecy where the pack's regulation then
    withholds the result (`publication.private_on_request`; Vĩnh Long's request hides personal data only, which
    is never public anyway). The same reading as publishing's delivery (services/publishing/letters.py)."""
    if report.get("secret"):
        return "secret"
    if report.get("non_public"):
        return "non_public"
    if report.get("keep_private"):
        publication = _pack_publication(report.get("pack", ""))
        if publication is None or publication.get("private_on_request"):
            return "private_on_request"
    return None


def _extensions(report: dict, deadlines: list[dict]) -> tuple[list[dict], dict | None]:
    """Each deadline with the date an extension moved it to, and the agency's latest notice and commitment."""
    history = [e for e in report.get("extensions") or [] if e.get("new_due")] or \
        ([report["extension"]] if report.get("extension") else [])
    moved = []
    for deadline in deadlines:
        own = [e for e in history if e.get("step") == deadline.get("step")
               and e.get("deadline_opened_at", deadline.get("opened_at")) == deadline.get("opened_at")]
        moved.append(dict(deadline, extended_to=own[-1]["new_due"], extended_from=own[0]["previous_due"])
                     if own else deadline)
    latest = history[-1] if history else None
    notice = None if latest is None else {
        "step": latest.get("step"), "new_due": latest.get("new_due"), "note": latest.get("reason"),
        "at": latest.get("at"), "by": latest.get("by"), "article": latest.get("article"),
        "history": [{"new_due": e.get("new_due"), "previous_due": e.get("previous_due"), "note": e.get("reason"),
                     "at": e.get("at")} for e in history]}
    return moved, notice


def public_view(report: dict, owner: bool = False) -> dict:
    """What anyone may read about a report: never the reporter's data. A report withheld from the public (state
    secret, non-public, secrecy on request) shows no description, messages or result letter; its reporter
    (`owner`: the tracking token was shown) reads their own description, messages and privately delivered
    result."""
    publication = report.get("publication") or {}
    private = withheld(report)
    hidden = private is not None and not owner
    deadlines, extension = _extensions(
        report, sorted(report.get("deadlines", {}).values(), key=lambda d: str(d.get("opened_at", ""))))
    view = {
        "id": report["_id"],
        "state": report["state"],
        "pack": report["pack"],
        "category": report.get("category"),
        "description": None if hidden else report.get("description"),
        "ward": report.get("ward"),
        "assigned_agencies": report.get("assigned_agencies", []),
        "reasons": report.get("reasons", []),
        "pending_checks": pending_checks(report),
        "deadlines": deadlines,
        "late": any(d.get("late") for d in report.get("deadlines", {}).values()),
        "timeline": _public_timeline(report),
        "interactions": [] if hidden else interactions(report),
        "submitted_at": report["submitted_at"],
    }
    if extension:
        view["extension"] = extension
    if private:
        view["private"] = True
    if publication and (report["state"] == "published" and not private
                        or owner and report["state"] in RESULT_DELIVERED):
        view["result"] = {"letter": publication.get("letter"), "published_at": publication.get("published_at"),
                          "private": bool(publication.get("private"))}
    if report.get("rating"):
        view["rating"] = {"level": report["rating"].get("level"), "label": report["rating"].get("label")}
    return view




def agencies_see_contact(report: dict) -> bool:
    """Whether the agencies handling a report may see its reporter's contact data: the reporter consented
    (`reporter.share_contact`), or the pack gives it to them (`publication.reporter_contact.agencies`: `consent`
    — only with consent —, `unless_private` — unless the reporter asked for secrecy —, or `always`)."""
    reporter = report.get("reporter") or {}
    if reporter.get("share_contact"):
        return True
    access = ((_pack_publication(report.get("pack", "")) or {}).get("reporter_contact") or {}).get("agencies",
                                                                                                   "consent")
    if access == "always":
        return True
    return access == "unless_private" and not report.get("keep_private") and not report.get("secret")


def masked_reporter(reporter: dict | None) -> dict:
    """The reporter as an agency without the right to their contact data sees them: the name's initials and the
    phone's first and last two digits; no e-mail, address, citizen id or account."""
    reporter = reporter or {}
    name = " ".join(f"{word[0]}." for word in (reporter.get("name") or "").split() if word) or None
    digits = "".join(ch for ch in reporter.get("phone") or "" if ch.isdigit())
    phone = f"{digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}" if len(digits) > 4 else None
    return {"name": name, "phone": phone, "account_verified": reporter.get("account_verified"),
            "share_contact": reporter.get("share_contact"), "masked": True}


def staff_view(report: dict, viewer: dict | None = None) -> dict:
    """The full record for staff; an agency account (`viewer` with an agency role) sees the reporter masked
    unless `agencies_see_contact`. The centre sees everything."""
    view = public_view(report, owner=True)
    agency = (viewer or {}).get("role") in AGENCY_ROLES
    view.update({
        "description": report.get("description"),
        "reporter": masked_reporter(report.get("reporter"))
        if agency and not agencies_see_contact(report) else report.get("reporter"),
        "secret": bool(report.get("secret")),
        "non_public": bool(report.get("non_public")),
        "location": report.get("location"),
        "urgent": report.get("urgent"),
        "sos": bool(report.get("sos")),
        "keep_private": report.get("keep_private"),
        "channel": report.get("channel"),
        "entered_by": report.get("entered_by"),
        "received_at": report.get("received_at"),
        "media": report.get("media", []),
        "warnings": report.get("warnings", []),
        "facts": report.get("facts"),
        "route": report.get("route"),
        "result": report.get("result"),
        "publication": report.get("publication"),
        "processing_error": report.get("processing_error"),
        "timeline": report["timeline"],
    })
    return view


def snapshot(report: dict) -> dict:
    """The report as other services see it on the bus and in RPC calls: no token hash, no bookkeeping, and of
    the reporter only what decisions need (paht.schemas.reporter_summary), never their name or contacts."""
    hidden = ("_id", "tracking_token_hash", "applied_events", "timeline", "reporter")
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
    return {"reporter": {}, "description": None, "location": None, "media": [], "facts": facts,
            "rating": {**rating, "comment": None} if rating else rating, "timeline": timeline,
            "tracking_token_hash": ""}
