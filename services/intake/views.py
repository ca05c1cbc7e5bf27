"""What of a report each reader may see: anyone (`public_view`), its reporter (`owner`), staff (`staff_view`, an
agency's accounts with the reporter masked unless they may see the contact data)."""
from __future__ import annotations

from paht.errors import ApiError
from paht.roles import AGENCY_ROLES
from paht.rules.steps import centre_agency, party_of
from paht.states import RESULT_DELIVERED


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


def clarifications(report: dict) -> list[dict]:
    """What the agency answered a "Không hài lòng" rating with (handling's `clarify`: "làm rõ và tương tác", TTH
    Điều 13 khoản 2, VL Điều 14 khoản 2), oldest first: read where the rating is read."""
    return [{"at": entry["at"], "note": (entry.get("detail") or {}).get("note"),
             "agency": (entry.get("actor") or {}).get("agency"), "article": (entry.get("detail") or {}).get("article")}
            for entry in report.get("timeline") or [] if entry["kind"] == "clarified"]


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


def _pack_agencies(pack_id: str) -> dict:
    from paht.rules import get_pack
    try:
        return get_pack(pack_id).agencies
    except KeyError:
        return {}


def late_by(report: dict, deadlines: list[dict]) -> list[dict]:
    """Whose step is late, for the "late" mark: each missed step with the party that had to act (the centre for
    its own steps, never the lead agency — review F1) and that unit's id and name."""
    agencies = _pack_agencies(report.get("pack", ""))
    assigned = {a.get("id"): a.get("name") for a in report.get("assigned_agencies") or []}
    found = []
    for deadline in deadlines:
        if not deadline.get("late"):
            continue
        party = party_of(deadline["step"])
        agency = centre_agency(agencies) if party == "centre" else deadline.get("agency")
        found.append({"step": deadline["step"], "subject": deadline.get("subject"), "party": party,
                      "agency": agency, "name": (agencies.get(agency) or {}).get("name") or assigned.get(agency)})
    return found


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
    pending = report.get("extension_notice")   # the agency's notice the centre has yet to set (ST-22, ST-23)
    latest = pending or (history[-1] if history else None)
    notice = None if latest is None else {
        "step": latest.get("step"), "new_due": latest.get("new_due"), "note": latest.get("reason"),
        "at": latest.get("at"), "by": latest.get("by"), "article": latest.get("article"),
        "set": pending is None,
        "history": [{"new_due": e.get("new_due"), "previous_due": e.get("previous_due"), "note": e.get("reason"),
                     "at": e.get("at")} for e in history]}
    return moved, notice


def shown_deadlines(report: dict) -> tuple[list[dict], dict | None]:
    """The report's deadlines as its views show them, oldest first, each as extended (_extensions), and the notice."""
    return _extensions(report, sorted(report.get("deadlines", {}).values(), key=lambda d: str(d.get("opened_at", ""))))


def public_view(report: dict, owner: bool = False) -> dict:
    """What anyone may read about a report: never the reporter's data. A report withheld from the public (state
    secret, non-public, secrecy on request) shows no description, messages or result letter; its reporter
    (`owner`: the tracking token was shown) reads their own description, messages and privately delivered
    result."""
    publication = report.get("publication") or {}
    private = withheld(report)
    hidden = private is not None and not owner
    deadlines, extension = shown_deadlines(report)
    late = late_by(report, deadlines)
    view = {
        "id": report["_id"],
        "state": report["state"],
        "pack": report["pack"],
        "category": report.get("category"),
        "description": None if hidden else report.get("description"),
        "title": None if hidden else report.get("title"),
        "ward": report.get("ward"),
        "assigned_agencies": report.get("assigned_agencies", []),
        "reasons": report.get("reasons", []),
        "pending_checks": pending_checks(report),
        "deadlines": deadlines,
        "late": bool(late),
        "late_by": late,
        "timeline": _public_timeline(report),
        "interactions": [] if hidden else interactions(report),
        "submitted_at": report["submitted_at"],
    }
    if extension:
        view["extension"] = extension
    procedure = sanction_status(report, hidden)
    if procedure:
        view["sanction_procedure"] = procedure
    if private:
        view["private"] = True
    if publication and (report["state"] == "published" and not private
                        or owner and report["state"] in RESULT_DELIVERED):
        view["result"] = {"letter": publication.get("letter"), "published_at": publication.get("published_at"),
                          "private": bool(publication.get("private"))}
    earlier = previous_results(report, owner)
    if earlier:
        view["previous_results"] = earlier
    if report.get("rating"):
        view["rating"] = {"level": report["rating"].get("level"), "label": report["rating"].get("label"),
                          "clarifications": [] if hidden else clarifications(report)}
    return view


def sanction_status(report: dict, hidden: bool) -> dict | None:
    """A report handled under an administrative-sanction procedure: its processing follows that procedure's times,
    and its status updates are the "thông tin phản hồi tình trạng xử lý" anyone following it reads (TTH Điều 11
    khoản 2, VL Điều 12 khoản 2 điểm b). The agency's note on the procedure stays with staff."""
    flag = report.get("sanction_procedure")
    if not flag:
        return None
    updates = [] if hidden else [{"at": e["at"], "note": (e.get("detail") or {}).get("note")}
                                 for e in report.get("timeline") or [] if e["kind"] == "status_updated"]
    return {"article": flag.get("article"), "since": flag.get("at"), "updates": updates}


def previous_results(report: dict, owner: bool) -> list[dict]:
    """The results an update replaced (TTH Điều 11 khoản 4, VL Điều 12 khoản 4 điểm b), oldest first, each marked
    with when it was superseded: anyone reads those that were published (unless the report is now withheld), its
    reporter (`owner`) also those delivered to them privately."""
    public = withheld(report) is None
    shown = []
    for entry in report.get("previous_results") or []:
        publication = entry.get("publication") or {}
        private = bool(publication.get("private"))
        if publication.get("letter") and (owner or public and not private):
            shown.append({"letter": publication["letter"], "published_at": publication.get("published_at"),
                          "private": private, "superseded_at": entry.get("superseded_at")})
    return shown




def agencies_see_contact(report: dict, agency: str | None = None) -> bool:
    """Whether the agencies handling a report (`agency`: the one asking) may see its reporter's contact data: the
    reporter consented (`reporter.share_contact`), or the pack gives it to them (`publication.reporter_contact.
    agencies`: `consent` — only with consent —, `unless_private` — unless the reporter asked for secrecy —,
    `on_request` — to an agency that asked for it (handling's `request_contact`, TN Điều 13 khoản 8), unless the
    reporter asked for secrecy —, or `always`)."""
    reporter = report.get("reporter") or {}
    if reporter.get("share_contact"):
        return True
    access = ((_pack_publication(report.get("pack", "")) or {}).get("reporter_contact") or {}).get("agencies",
                                                                                                   "consent")
    if access == "always":
        return True
    if report.get("keep_private") or report.get("secret"):
        return False
    if access == "on_request":
        return agency is not None and any(r.get("agency") == agency for r in report.get("contact_requests") or [])
    return access == "unless_private"


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
        if agency and not agencies_see_contact(report, viewer.get("agency")) else report.get("reporter"),
        "original_text": report.get("original_text"),   # the reporter's own text beside the centre's edit
        "contact_requests": report.get("contact_requests") or [],
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
        # the sanction-procedure flag with its note; the centre's reports to the UBND, with their letters (centre only)
        **({"sanction_procedure": dict(report["sanction_procedure"], updates=view["sanction_procedure"]["updates"])}
           if report.get("sanction_procedure") else {}),
        "province_referrals": [] if agency else report.get("province_referrals") or [],
        "timeline": report["timeline"],
    })
    return view
