"""The agency's work on a report and the centre's coordination actions, as plain functions.

`decide()` checks role, assignment and state, and returns the Decision intake applies, or an error answer.
"""
from __future__ import annotations

from datetime import datetime

from paht.agreement import agreement_article, awaited_agreement, superseded, update_clause
from paht.assignments import agency_assignment
from paht.errors import Refused
from paht.roles import AGENCY_ROLES, CENTRE_ROLES
from paht.route_facts import routing_facts
from paht.schemas import Decision, lead_agency
from paht.states import RESULT_DELIVERED, TERMINAL
from paht.worktime import calendar_for

from .schemas import Extension, Result


def co_agencies(report: dict) -> list[str]:
    return [a["id"] for a in report.get("assigned_agencies") or [] if a.get("role") == "co"]


def is_co_agency(report: dict, actor: dict) -> bool:
    return actor.get("role") in AGENCY_ROLES and actor.get("agency") in co_agencies(report)


def contributions(report: dict) -> dict:
    return dict((report.get("result") or {}).get("contributions") or {})


def _co_work(report, actor, body, action):
    """A co-agency's own steps on a forwarded report: acknowledge, return (not its matter), submit its part,
    and its leader's approval of that part. None of them changes the report's state."""
    agency = actor["agency"]
    parts = contributions(report)
    if action == "acknowledge":
        return "co_acknowledged", None, {}, {"agency": agency}
    if action == "return":
        remaining = [a for a in report["assigned_agencies"] if a["id"] != agency]
        parts.pop(agency, None)
        return "co_returned", None, {"assigned_agencies": remaining, "result.contributions": parts}, \
            {"agency": agency, "all_approved": _all_approved(remaining, parts)}
    if action == "submit_result":
        parts[agency] = {"text": require_field(body, "result_text"), "by": actor.get("name"), "approved": False}
        return "co_result_submitted", None, {"result.contributions": parts}, {"agency": agency}
    if action == "approve":
        if actor.get("role") != "agency_leader" or agency not in parts:
            raise Refused("FORBIDDEN" if actor.get("role") != "agency_leader" else "ACTION_NOT_ALLOWED",
                          "the co-agency's leader approves its submitted part")
        parts[agency] = dict(parts[agency], approved=True)
        return "co_result_approved", None, {"result.contributions": parts}, {
            "agency": agency, "all_approved": _all_approved(report["assigned_agencies"], parts)}
    raise Refused("FORBIDDEN", f"a co-agency may not {action}")


def _all_approved(agencies: list[dict], parts: dict) -> bool:
    return all(parts.get(a["id"], {}).get("approved") for a in agencies if a.get("role") == "co")


def require_state(report: dict, *states: str) -> None:
    if report["state"] not in states:
        raise Refused("ACTION_NOT_ALLOWED", f"report is {report['state']}, needs {' or '.join(states)}")


def require_lead(report: dict, actor: dict, roles=AGENCY_ROLES) -> None:
    if actor.get("role") not in roles:
        raise Refused("FORBIDDEN", f"role {actor.get('role')} may not do this")
    if actor.get("agency") != lead_agency(report):
        raise Refused("FORBIDDEN", "only the lead agency may do this")


def require_centre(actor: dict) -> None:
    if actor.get("role") not in CENTRE_ROLES:
        raise Refused("FORBIDDEN", "only the provincial centre may do this")


def require_field(body: dict, name: str) -> str:
    if not body.get(name):
        raise Refused("VALIDATION_FAILED", f"{name} is required", {name: "required"})
    return body[name]


def known_agency(pack, agency_id: str, field: str = "agency") -> str:
    if agency_id not in pack.agencies:
        raise Refused("VALIDATION_FAILED", f"unknown agency {agency_id}", {field: "unknown agency"})
    return agency_id


def _acknowledge(report, actor, body, pack, now):
    require_state(report, "dispatched")
    require_lead(report, actor)
    return "acknowledged", "in_progress", {}, {}


def _return(report, actor, body, pack, now):
    require_state(report, "dispatched", "in_progress")
    require_lead(report, actor)
    suggested = known_agency(pack, require_field(body, "agency"))
    route = dict(report.get("route") or {})
    route.update({"suggested_agency": suggested, "returned_count": int(route.get("returned_count", 0)) + 1,
                  "returned_by": list(route.get("returned_by", [])) + [actor.get("agency")],
                  "designated_agency": None})
    return "returned", "accepted", {"route": route, "assigned_agencies": []}, {"suggested_agency": suggested}


def _request_info(report, actor, body, pack, now):
    require_state(report, "in_progress")
    require_lead(report, actor)
    question = require_field(body, "question")
    return "info_requested", None, {}, {"question": question}


def extension_clause(pack) -> dict:
    """The pack's extension procedure (`pack.yaml` `extension`), {} where its seed says nothing beyond the agency
    setting a new time: `notice_to_reporter` (the agency's written notice and commitment go to the reporter),
    `due_set_by: centre` (the centre sets the new time in the system from that notice), `once` (the commitment is
    to a final time, "thời hạn xử lý dứt điểm": one extension per processing deadline)."""
    return pack.meta.get("extension") or {}


def _extension_deadline(report) -> dict:
    deadline = (report.get("deadlines") or {}).get("process")
    if deadline is None or deadline.get("closed_at"):
        raise Refused("ACTION_NOT_ALLOWED", "no open processing deadline to extend")
    return deadline


def _same_deadline(entry: dict | None, deadline: dict) -> bool:
    return bool(entry) and entry.get("step") == "process" and entry.get("deadline_opened_at") == deadline["opened_at"]


def _extend(report, actor, body, pack, now):
    """An extension of the processing step with the agency's written notice and commitment (the note), shown to
    the reporter. Where the pack caps extensions (`extension_max_fraction`, ST-22 Điều 10 khoản 2 điểm c: "không
    quá ½ thời gian quy định"), every extension of this deadline counts against its ORIGINAL time: the new due
    date may lie at most fraction × the step's prescribed time (its own amount and unit, in the pack's working
    time) after the due date the step had before any extension. Where the centre sets the time (`extension`
    `due_set_by: centre`, ST-22 Điều 10 khoản 2 điểm c, ST-23 Điều 14 khoản 3) this is the notice alone
    (`extension_noticed`, told to the reporter); the deadline moves on the centre's `set_extension`."""
    require_state(report, "in_progress")
    require_lead(report, actor)
    new_due = body.get("new_due")
    if not new_due or not body.get("note"):
        raise Refused("VALIDATION_FAILED", "new_due and note (the reason) are required",
                      {"new_due": "required", "note": "required"})
    new_due = datetime.fromisoformat(new_due)
    deadline = _extension_deadline(report)
    opened, due = datetime.fromisoformat(deadline["opened_at"]), datetime.fromisoformat(deadline["due"])
    clause = extension_clause(pack)
    earlier = [e for e in report.get("extensions") or [] if _same_deadline(e, deadline)]
    pending = report.get("extension_notice")
    if _same_deadline(pending, deadline):
        raise Refused("ACTION_NOT_ALLOWED", "the centre has yet to set the time of the agency's notice "
                      f"({clause.get('article')})")
    if earlier and clause.get("once"):
        raise Refused("ACTION_NOT_ALLOWED", "the agency committed to a final time already (\"cam kết thời hạn xử lý "
                      f"dứt điểm\", {clause.get('article')}): one extension per processing deadline")
    if new_due <= due:
        raise Refused("VALIDATION_FAILED", "the new date must be after the current deadline", {"new_due": "too early"})
    original_due = datetime.fromisoformat(earlier[0]["previous_due"]) if earlier else due
    limit = pack.parameters.get("extension_max_fraction")
    if limit is not None:
        latest = extension_limit(pack, deadline, opened, original_due, float(limit["value"]))
        if new_due > latest:
            raise Refused("EXTENSION_TOO_LONG",
                          f"at most {limit['value']} of the step's time in all, until {latest.isoformat()} "
                          f"({limit.get('article')})",
                          {"new_due": "beyond the pack's limit", "latest_due": latest.isoformat()})
    extension = Extension(step="process", previous_due=due.isoformat(), new_due=new_due.isoformat(),
                          reason=body["note"], by=actor.get("agency"), at=now.isoformat(),
                          article=(limit or {}).get("article") or clause.get("article")).model_dump()
    extension.update(deadline_opened_at=deadline["opened_at"], original_due=original_due.isoformat(),
                     number=len(earlier) + 1)
    if clause.get("due_set_by") == "centre":
        notice = dict(extension, noticed_at=now.isoformat())
        return "extension_noticed", None, {"extension_notice": notice}, dict(notice, to_reporter=bool(
            clause.get("notice_to_reporter")))
    history = list(report.get("extensions") or []) + [extension]
    return "extended", None, {"extension": extension, "extensions": history}, extension


def _set_extension(report, actor, body, pack, now):
    """The centre sets the processing time in the system from the agency's notice of extension ("Nhân sự tiếp nhận
    tại Trung tâm GSĐH tỉnh căn cứ văn bản thông báo gia hạn xử lý để xác định thời gian xử lý trên phần mềm",
    ST-22 Điều 10 khoản 2 điểm c, ST-23 Điều 14 khoản 3): the new due time is the one the agency committed to
    (checked against the pack's cap when it gave the notice); the deadline moves (`extended`)."""
    require_state(report, "in_progress")
    require_centre(actor)
    clause = extension_clause(pack)
    if clause.get("due_set_by") != "centre":
        raise Refused("ACTION_NOT_ALLOWED", "in this pack the agency sets the extended time itself (extension)")
    deadline = _extension_deadline(report)
    notice = report.get("extension_notice")
    if not _same_deadline(notice, deadline):
        raise Refused("ACTION_NOT_ALLOWED", "no notice of extension from the agency awaits the centre")
    extension = dict(notice, set_by=actor.get("name") or actor.get("role"), set_at=now.isoformat())
    history = list(report.get("extensions") or []) + [extension]
    return "extended", None, {"extension": extension, "extensions": history, "extension_notice": None}, extension


def extension_limit(pack, deadline: dict, opened: datetime, original_due: datetime, fraction: float) -> datetime:
    """The latest due date all extensions of a deadline together may reach: fraction × the step's prescribed time
    after its original due date, in the pack's working time when the deadline says its amount and unit (6 wd →
    3 wd more), else in calendar time from when it opened."""
    amount, unit = deadline.get("amount"), deadline.get("unit")
    if amount and unit:
        return calendar_for(pack.meta).add(original_due, float(amount) * fraction, unit)
    return original_due + (original_due - opened) * fraction


def _forward(report, actor, body, pack, now):
    require_state(report, "in_progress")
    require_lead(report, actor)
    co = list(dict.fromkeys(known_agency(pack, a, "agencies") for a in body.get("agencies") or []))
    if not co:
        raise Refused("VALIDATION_FAILED", "agencies is required", {"agencies": "required"})
    current = report.get("assigned_agencies") or []
    have = {a["id"] for a in current}
    merged = current + [agency_assignment(pack, a, "co") for a in co if a not in have]
    return "forwarded", None, {"assigned_agencies": merged}, {"co": co}


def _submit_result(report, actor, body, pack, now):
    require_state(report, "in_progress")
    require_lead(report, actor)
    text = require_field(body, "result_text")
    needs_photos = (pack.meta.get("publication") or {}).get("after_photos_required") or {}
    if report.get("category") in needs_photos.get("categories", []) and not body.get("after_photos"):
        raise Refused("VALIDATION_FAILED", f"photos of the fixed scene are required ({needs_photos.get('article')})",
                      {"media": "after photos required"})
    result = Result(text=text, submitted_by=actor.get("name") or actor.get("agency"), agency=actor.get("agency"),
                    submitted_at=now.isoformat(), after_photos=body.get("after_photos") or [],
                    contributions=contributions(report)).model_dump()   # the lead compiles its co-agencies' parts
    return "result_submitted", "result_submitted", {"result": result}, {"length": len(text)}


def _approve(report, actor, body, pack, now):
    require_state(report, "result_submitted")
    require_lead(report, actor, roles=("agency_leader",))
    result = dict(report.get("result") or {})
    edited = bool(body.get("result_text")) and body["result_text"] != result.get("text")
    if edited:
        result["text"] = body["result_text"]
    result.update({"approved_by": actor.get("name") or actor.get("agency"), "approved_at": now.isoformat(),
                   "edited_by_leader": edited})
    return "approved", "approved", {"result": result}, {"edited": edited}


def _send_back(report, actor, body, pack, now):
    require_state(report, "result_submitted")
    require_lead(report, actor, roles=("agency_leader",))
    return "sent_back", "in_progress", {}, {"note": require_field(body, "note")}


def _designate(report, actor, body, pack, now):
    """The centre sends a report no agency could be found for to the agency the province designated. The pack's
    routing rules decide the route as they decide every other (its `*-route-designated` rule, lead: designated),
    so the route and the timeline name that rule and its article."""
    require_state(report, "routing_unresolved")
    require_centre(actor)
    lead = known_agency(pack, require_field(body, "agency"))
    route = dict(report.get("route") or {})
    route["designated_agency"] = lead
    decided = pack.evaluate("routing", routing_facts(dict(report, route=route)))
    if decided.get("decision") != "route" or decided.get("lead") != lead:
        raise Refused("ACTION_NOT_ALLOWED", f"the pack's routing rules do not send a designated report to the "
                      f"designated agency (rule {decided.get('rule')})")
    co = [c for c in decided.get("co") or [] if c != lead]
    route.update({"lead": lead, "co": co, "designated_by": actor.get("name"), "rule": decided["rule"],
                  "article": decided["article"], "decided_at": now.isoformat(),
                  # kept when the designated agency names the competent one: whose agreement the result needs
                  "designation": {"agency": lead, "at": now.isoformat(), "by": actor.get("name")}})
    agencies = [agency_assignment(pack, lead, "lead")] + [agency_assignment(pack, c, "co") for c in co]
    return "designated", "dispatched", {"route": route, "assigned_agencies": agencies}, \
        {"lead": lead, "co": co, "rule": decided["rule"], "article": decided["article"]}


def _unresolve(report, actor, body, pack, now):
    """The centre finds that no agency can be identified for a report its routing rules sent to one, before that
    agency took it up ("phản ánh chưa xác định được đơn vị xử lý": ST-22 Điều 16, ST-23 Điều 5, TTH Điều 16, VL
    Điều 17, TN Điều 7 khoản 3 điểm c): the report waits for the designation, under the pack's unresolved routing
    rule. Where GPS is required every accepted report has a ward and every category routes, so only the centre can
    find a report unresolved."""
    require_state(report, "dispatched")
    require_centre(actor)
    note = require_field(body, "note")
    rule = next((r for r in pack.stages.get("routing", []) if r["then"]["action"] == "unresolved"), None)
    if rule is None:
        raise Refused("ACTION_NOT_ALLOWED", "the pack's routing has no rule for a report no agency is found for")
    route = dict(report.get("route") or {})
    route.update({"lead": None, "co": [], "immediate": False, "rule": rule["id"], "article": rule["article"],
                  "decided_at": now.isoformat(), "unresolved_by": actor.get("name")})
    return "routing_unresolved", "routing_unresolved", {"route": route, "assigned_agencies": []}, \
        {"note": note, "rule": rule["id"], "article": rule["article"]}


def _rework(report, actor, body, pack, now):
    """The centre's check before publication sends an approved result back to the lead agency: `format` (not in
    the form of the appendix) or `content` (inaccurate, incomplete, photos of the fixed scene missing). The
    timeline cause `rework_requested` with `detail.kind` opens the matching rework deadline (sla)."""
    require_state(report, "approved")
    require_centre(actor)
    kind = body.get("kind")
    if kind not in ("format", "content"):
        raise Refused("VALIDATION_FAILED", "kind is format or content", {"kind": "format | content"})
    rework = (pack.meta.get("publication") or {}).get("rework") or {}
    return "rework_requested", "in_progress", {}, {"kind": kind, "note": body.get("note"),
                                                   "article": (rework.get(kind) or {}).get("article")}


def _mark(report, actor, body, pack, field: str, setting: str):
    """The centre marks (or, with value false, unmarks) a report before it is closed."""
    require_centre(actor)
    if report["state"] in TERMINAL:
        raise Refused("ACTION_NOT_ALLOWED", f"report is {report['state']}: it is closed")
    rule = (pack.meta.get("publication") or {}).get(setting)
    if not rule:
        raise Refused("ACTION_NOT_ALLOWED", f"the pack's regulation has no {setting} clause (publication.{setting})")
    value = body.get("value")
    if value is not None and not isinstance(value, bool):
        raise Refused("VALIDATION_FAILED", "value is true or false", {"value": "true | false"})
    value = value is not False
    return {field: value}, {"value": value, "article": rule.get("article")}


def _mark_secret(report, actor, body, pack, now):
    """State secrets (bí mật nhà nước): never published; the result is delivered to the reporter privately."""
    patch, detail = _mark(report, actor, body, pack, "secret", "state_secrets")
    return "marked_secret", None, patch, detail


def _mark_non_public(report, actor, body, pack, now):
    """A sensitive report received non-publicly (tiếp nhận không công khai): no description or result in public,
    the result delivered privately."""
    patch, detail = _mark(report, actor, body, pack, "non_public", "non_public")
    return "marked_non_public", None, patch, detail


def _directive(report, actor, body, pack, now):
    """A corrective directive (văn bản chỉ đạo chấn chỉnh) recorded against an agency, by the centre."""
    require_centre(actor)
    target = known_agency(pack, body.get("agency") or lead_agency(report) or require_field(body, "agency"))
    return "directive", None, {}, {"agency": target, "note": require_field(body, "note")}


def _missed_call(report, actor, body, pack, now):
    """The centre's call about this report that the agency did not answer (the operator records it)."""
    require_centre(actor)
    target = known_agency(pack, body.get("agency") or lead_agency(report) or require_field(body, "agency"))
    return "missed_call", None, {}, {"agency": target}


def _reply(report, actor, body, pack, now):
    """The assigned agency answers a reporter's message (intake checked it exists and is unanswered)."""
    if actor.get("role") not in AGENCY_ROLES or actor.get("agency") not in {a["id"] for a in
                                                                            report.get("assigned_agencies") or []}:
        raise Refused("FORBIDDEN", "only an assigned agency answers the reporter")
    return "interaction_replied", None, {}, {"interaction_id": require_field(body, "interaction_id"),
                                            "note": require_field(body, "note"), "agency": actor.get("agency")}


def _clarify(report, actor, body, pack, now):
    """The rated agency clarifies a result its reporter rated "Không hài lòng", where the pack makes it do so
    (rating_scale.unsatisfied.action `clarify`: TTH Điều 13 khoản 2, VL Điều 14 khoản 2). Ends the `clarify` step."""
    require_state(report, "published", "delivered_privately")
    require_lead(report, actor)
    unsatisfied = (pack.meta.get("rating_scale") or {}).get("unsatisfied") or {}
    if unsatisfied.get("action") != "clarify" or (report.get("rating") or {}).get("counts_as") != "unsatisfied":
        raise Refused("ACTION_NOT_ALLOWED", "only a result rated unsatisfied is clarified, where the pack says so")
    return "clarified", None, {}, {"note": require_field(body, "note"), "article": unsatisfied.get("article")}


def _agree(report, actor, body, pack, now):
    """The agency the province designated to coordinate agrees to the result before publication (TTH Điều 16
    khoản 4, VL Điều 17 khoản 4), within its `agree` deadline: `{"note"}` agrees; `{"value": false, "note"}` does
    not, and the report goes back to processing ("thực hiện lại Bước 3"). The centre may record the agency's
    answer on its behalf (the seeds have the centre ask it: "chuyển kết quả ... để xin ý kiến thống nhất").
    The answer is kept on the report for the result it was given to (`agreement`): publishing publishes only a
    result its designated agency agreed to (paht.agreement)."""
    require_state(report, "approved")
    agency = awaited_agreement(pack.meta, report)
    if agency is None:
        raise Refused("ACTION_NOT_ALLOWED", "no agreement of a designated agency is awaited")
    if actor.get("role") not in CENTRE_ROLES and (actor.get("role") not in AGENCY_ROLES
                                                  or actor.get("agency") != agency):
        raise Refused("FORBIDDEN", "only the designated agency (or the centre recording its answer) agrees")
    value = body.get("value")
    if value is not None and not isinstance(value, bool):
        raise Refused("VALIDATION_FAILED", "value is true (agree) or false (do not agree)", {"value": "true | false"})
    detail = {"agency": agency, "article": agreement_article(pack)}
    if actor.get("role") in CENTRE_ROLES:
        detail["recorded_by"] = actor.get("name") or actor.get("role")
    agreement = dict(detail, agreed=value is not False, at=now.isoformat(),
                     approved_at=(report.get("result") or {}).get("approved_at"))
    if value is False:
        note = require_field(body, "note")
        return "agreement_refused", "in_progress", {"agreement": dict(agreement, note=note)}, dict(detail, note=note)
    return "agreed", None, {"agreement": agreement}, detail


def _reopen(report, actor, body, pack, now):
    """The centre reopens a result already returned (published or delivered privately) for an update, at the
    processing agency's request (TTH Điều 11 khoản 4, VL Điều 12 khoản 4 điểm b: "yêu cầu trả bước trước phản ánh
    để cập nhật kết quả hoặc cung cấp nội dung, kết quả cập nhật để Trung tâm đăng tải"), `{"note"}` saying what
    is to be updated: back to the agency's processing step (it reports, its leader approves, the centre publishes
    as for any result); with `result_text`, the updated result the agency gave the centre, which goes straight to
    the centre's publication. The result and letter it replaces stay in `previous_results`, shown beside it."""
    require_state(report, *RESULT_DELIVERED)
    require_centre(actor)
    clause = update_clause(pack.meta)
    if clause is None:
        raise Refused("ACTION_NOT_ALLOWED", "the pack's regulation has no clause on updating a returned result "
                                            "(publication.update)")
    note = require_field(body, "note")
    patch = {"previous_results": superseded(report, now.isoformat(), note), "publication": None}
    lead = lead_agency(report)
    detail = {"note": note, "article": clause.get("article"), "agency": lead}
    text = body.get("result_text")
    if not text:
        return "reopened", "in_progress", patch, dict(detail, update="agency")
    result = dict(report.get("result") or {})
    result.update({"text": text, "approved_by": (pack.agencies.get(lead) or {}).get("name", lead),
                   "approved_at": now.isoformat(), "edited_by_leader": False,
                   "update": {"provided_by": lead, "recorded_by": actor.get("name") or actor.get("role"),
                              "at": now.isoformat()}})
    return "reopened", "approved", dict(patch, result=result), dict(detail, update="centre")


def _called_back(report, actor, body, pack, now):
    """The centre called back the reporter of an SOS report (TTH Điều 18 khoản 1: "liên hệ công dân/tổ chức để
    tiếp nhận ngay các thông tin chậm nhất trong 5 phút"). Ends the `sos_callback` step."""
    require_centre(actor)
    if not report.get("sos"):
        raise Refused("ACTION_NOT_ALLOWED", "only a report sent with the SOS button is called back")
    pending = (report.get("deadlines") or {}).get("sos_callback") or {}
    return "called_back", None, {}, {"note": require_field(body, "note"), "article": pending.get("article")}


def _request_contact(report, actor, body, pack, now):
    """An agency handling the report asks for its reporter's contact data where the pack gives it to agencies only
    on request (`publication.reporter_contact.agencies: on_request`; TN Điều 13 khoản 8: "Cung cấp thông tin liên
    quan đến người gửi phản ánh, kiến nghị cho cơ quan chức năng để liên hệ ... nếu có yêu cầu"). The request is
    recorded in the timeline and the asking agency then sees the data (services/intake/views.py), bound not to
    let it out (Điều 17 khoản 6). Not where the reporter asked for secrecy or the report is a state secret."""
    agency = actor.get("agency")
    if actor.get("role") not in AGENCY_ROLES or agency not in {a["id"] for a in report.get("assigned_agencies") or []}:
        raise Refused("FORBIDDEN", "only an agency handling the report asks for its reporter's contact data")
    rule = (pack.meta.get("publication") or {}).get("reporter_contact") or {}
    if rule.get("agencies") != "on_request":
        raise Refused("ACTION_NOT_ALLOWED", "the pack gives agencies the reporter's contact data without a request "
                      "or not at all (publication.reporter_contact)")
    if report.get("keep_private") or report.get("secret"):
        raise Refused("ACTION_NOT_ALLOWED", "the reporter asked for secrecy or the report is a state secret")
    requests = list(report.get("contact_requests") or [])
    if any(r.get("agency") == agency for r in requests):
        raise Refused("ACTION_NOT_ALLOWED", "this agency was given the reporter's contact data already")
    request = {"agency": agency, "by": actor.get("name"), "at": now.isoformat(), "note": body.get("note"),
               "article": rule.get("article")}
    return "contact_requested", None, {"contact_requests": requests + [request]}, \
        {"agency": agency, "article": rule.get("article")}


# the states in which the centre standardises a report's text: while it receives it, before an agency takes it up
# (the system dispatches an accepted report at once, so "trong quá trình tiếp nhận" reaches until acknowledgement)
TEXT_EDIT_STATES = ("submitted", "accepted", "routing_unresolved", "dispatched")


def _edit_text(report, actor, body, pack, now):
    """The centre standardises the report's text: corrects spelling and format of the description and its title
    without changing the content (`text_edit`: ST-22 Điều 8 khoản 1, ST-23 Điều 2 khoản 4, TTH Điều 9 khoản 1,
    VL Điều 10 khoản 1 "đồng thời gửi kèm nội dung gốc"). The reporter's original stays beside the edit
    (`original_text`, the first text of each field, shown to staff); the public reads the edited text. The texts
    themselves are not written to the timeline, which outlives the reporter's data."""
    require_centre(actor)
    require_state(report, *TEXT_EDIT_STATES)
    clause = pack.meta.get("text_edit")
    if not clause:
        raise Refused("ACTION_NOT_ALLOWED", "the pack's regulation has no clause on standardising the text (text_edit)")
    edits = {field: body.get(field) for field in ("description", "title") if body.get(field) is not None}
    if any(not isinstance(text, str) or not text.strip() for text in edits.values()):
        raise Refused("VALIDATION_FAILED", "an edited text is not empty", {field: "empty" for field in edits})
    edits = {field: text.strip() for field, text in edits.items() if text.strip() != (report.get(field) or "")}
    if not edits:
        raise Refused("VALIDATION_FAILED", "description or title, changed, is required",
                      {"description": "required", "title": "required"})
    original = dict(report.get("original_text") or {})
    for field in edits:
        original.setdefault(field, report.get(field))
    return "text_edited", None, dict(edits, original_text=original), \
        {"fields": sorted(edits), "article": clause.get("article"), "by": actor.get("name") or actor.get("role")}


def sanction_clause(pack, report: dict) -> dict | None:
    """The pack's clause of the administrative-sanction procedure for this report's procedure (`pack.yaml`
    `sanction_procedure.immediate` for an urgent report, `.normal` otherwise), or None where its seed has none."""
    clauses = pack.meta.get("sanction_procedure") or {}
    return clauses.get("immediate" if report.get("urgent") else "normal")


def _sanction_procedure(report, actor, body, pack, now):
    """The lead agency (or the centre) records that the report is handled under an administrative-sanction
    procedure, with its note: "thời gian xử lý thực hiện theo các văn bản quy phạm pháp luật liên quan" — the pack's
    sla rule then sets no processing deadline for it (the running one ends, neither met nor missed)."""
    require_state(report, "dispatched", "in_progress")
    if actor.get("role") not in CENTRE_ROLES:
        require_lead(report, actor)
    clause = sanction_clause(pack, report)
    if not clause:
        raise Refused("ACTION_NOT_ALLOWED", "the pack's regulation has no sanction-procedure clause for this "
                      f"{'immediate' if report.get('urgent') else 'normal'} procedure (sanction_procedure)")
    if report.get("sanction_procedure"):
        raise Refused("ACTION_NOT_ALLOWED", "the report is already handled under the sanction procedure")
    flag = {"note": require_field(body, "note"), "by": actor.get("agency") or actor.get("name") or actor.get("role"),
            "at": now.isoformat(), "article": clause["article"],
            "status_updates": bool(clause.get("status_updates"))}
    return "sanction_procedure_started", None, {"sanction_procedure": flag}, \
        {"note": flag["note"], "article": clause["article"], "status_updates": flag["status_updates"]}


def _status_update(report, actor, body, pack, now):
    """A status update of a report handled under the sanction procedure ("đồng thời thông tin phản hồi tình trạng
    xử lý", TTH Điều 11 khoản 2, VL Điều 12 khoản 2 điểm b), from the lead agency or the centre; the reporter is
    told. The seeds give no interval, so none is timed."""
    require_state(report, "in_progress", "result_submitted")
    if actor.get("role") not in CENTRE_ROLES:
        require_lead(report, actor)
    flag = report.get("sanction_procedure") or {}
    if not flag.get("status_updates"):
        raise Refused("ACTION_NOT_ALLOWED", "status updates are given for a report under the sanction procedure "
                      "whose clause asks for them")
    update = {"note": require_field(body, "note"), "at": now.isoformat()}
    return "status_updated", None, {"sanction_procedure": dict(flag, last_update=update)}, \
        {"note": update["note"], "article": flag.get("article")}


ACTIONS = {
    "acknowledge": _acknowledge, "return": _return, "request_info": _request_info, "extend": _extend,
    "forward": _forward, "submit_result": _submit_result, "approve": _approve, "send_back": _send_back,
    "designate": _designate, "rework": _rework, "directive": _directive, "missed_call": _missed_call,
    "reply": _reply, "mark_secret": _mark_secret, "mark_non_public": _mark_non_public,
    "clarify": _clarify, "agree": _agree, "called_back": _called_back, "reopen": _reopen,
    "set_extension": _set_extension, "request_contact": _request_contact, "edit_text": _edit_text,
}
ACTIONS.update({"sanction_procedure": _sanction_procedure, "status_update": _status_update})
ACTIONS["unresolve"] = _unresolve
# actions that are not the work on the report itself, so a co-agency's reply is its own
NOT_WORK = ("directive", "missed_call", "reply", "mark_secret", "mark_non_public", "called_back", "request_contact")


def decide(report: dict, action: str, actor: dict, body: dict, pack, now: datetime, event_id: str) -> Decision:
    """Raises Refused; otherwise the Decision to apply."""
    if action not in ACTIONS:
        raise Refused("UNKNOWN_ACTION", action)
    if is_co_agency(report, actor) and report["state"] in ("in_progress", "result_submitted") \
            and action not in NOT_WORK:
        kind, to_state, patch, detail = _co_work(report, actor, body, action)
    else:
        kind, to_state, patch, detail = ACTIONS[action](report, actor, body, pack, now)
    if body.get("note") and "note" not in detail:
        detail["note"] = body["note"]
    return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"], kind=kind,
                    source="handling", to_state=to_state, from_states=[report["state"]], actor=actor,
                    detail=detail, patch=patch)
