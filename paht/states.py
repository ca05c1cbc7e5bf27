"""The report state machine (docs/architecture.md) as data plus one pure function intake applies every decision with."""
from __future__ import annotations

from .schemas import Decision

STATES = (
    "submitted", "needs_supplement", "rejected", "cancelled", "accepted", "routing_unresolved", "dispatched",
    "in_progress", "result_submitted", "approved", "published", "delivered_privately", "forwarded_for_monitoring",
)
TERMINAL = frozenset({"rejected", "cancelled", "published", "delivered_privately", "forwarded_for_monitoring"})
RESULT_DELIVERED = ("published", "delivered_privately")   # the result reached the public, or the reporter alone
LABELS = {   # what people read of a state: Vietnamese, English
    "submitted": ("Đã gửi, đang kiểm tra", "Submitted, being checked"),
    "needs_supplement": ("Cần bổ sung thông tin", "Needs more information"),
    "rejected": ("Không được tiếp nhận", "Not accepted"),
    "cancelled": ("Đã hủy", "Cancelled"),
    "accepted": ("Đã tiếp nhận", "Accepted"),
    "routing_unresolved": ("Đang xác định cơ quan xử lý", "Finding the competent agency"),
    "dispatched": ("Đã chuyển cơ quan xử lý", "Sent to the agency"),
    "in_progress": ("Đang xử lý", "Being handled"),
    "result_submitted": ("Đã báo cáo kết quả, chờ phê duyệt", "Result reported, awaiting approval"),
    "approved": ("Kết quả đã được duyệt, chờ công khai", "Result approved, to be published"),
    "published": ("Đã có kết quả, đã công khai", "Result published"),
    "delivered_privately": ("Đã gửi kết quả riêng cho người phản ánh", "Result delivered privately"),
    "forwarded_for_monitoring": ("Chuyển cơ quan chức năng theo dõi", "Forwarded for monitoring"),
}

STEP_LABELS = {   # what people read of a step a deadline times: Vietnamese, English (the packs' sla.yaml steps)
    "receive": ("Tiếp nhận", "Receive"),
    "process": ("Xử lý", "Handle"),
    "approve": ("Phê duyệt kết quả", "Approve the result"),
    "dispatch": ("Chuyển cơ quan xử lý", "Send to the agency"),
    "rework": ("Điều chỉnh kết quả", "Rework the result"),
    "acknowledge": ("Cơ quan tiếp nhận", "Agency acknowledges"),
    "return": ("Trả lại phản ánh", "Return the report"),
    "publish": ("Công khai kết quả", "Publish the result"),
    "supplement": ("Bổ sung thông tin", "Add information"),
    "identity_check": ("Xác minh người phản ánh", "Confirm the reporter"),
    "designate": ("Chỉ định cơ quan chủ trì", "Designate the lead"),
    "request_info": ("Cung cấp thông tin", "Provide information"),
    "operator_check": ("Kiểm tra của tổng đài viên", "Operator's check"),
    "interaction_reply": ("Trả lời người phản ánh", "Reply to the reporter"),
    "forward": ("Chuyển cơ quan phối hợp", "Forward to co-agencies"),
    "compile": ("Tổng hợp kết quả", "Compile the result"),
    "co_return": ("Cơ quan phối hợp trả lại", "Co-agency returns"),
    "co_process": ("Cơ quan phối hợp xử lý", "Co-agency handles"),
    "clarify": ("Làm rõ, tương tác", "Clarify with the reporter"),
    "agree": ("Thống nhất kết quả", "Agree on the result"),
    "sos_callback": ("Gọi lại người báo khẩn cấp", "Call the SOS reporter back"),
    "handling": ("Xử lý và trả kết quả", "Handle and return the result"),
}

TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"needs_supplement", "rejected", "cancelled", "accepted", "forwarded_for_monitoring"}),
    "needs_supplement": frozenset({"submitted", "rejected", "cancelled"}),
    "accepted": frozenset({"dispatched", "routing_unresolved", "cancelled"}),
    "routing_unresolved": frozenset({"dispatched", "cancelled"}),
    # a wrong-jurisdiction return sends the report back to routing (accepted); the reporter may cancel until an
    # agency acknowledges it
    "dispatched": frozenset({"in_progress", "accepted", "cancelled", "routing_unresolved"}),
    "in_progress": frozenset({"result_submitted", "accepted"}),
    "result_submitted": frozenset({"approved", "in_progress"}),
    # the centre may ask for rework of an approved result before publishing it
    "approved": frozenset({"published", "delivered_privately", "in_progress"}),
    "published": frozenset(),
    "delivered_privately": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),
    "forwarded_for_monitoring": frozenset(),
}
# the only ways out of a closed report, each for one cause: a "Không hài lòng" rating sends the result back for
# processing where the pack says so (Tây Ninh Điều 10 khoản 4; services/rating); the centre reopens a returned
# result for an update, back to the agency's step or, with the agency's updated result, to publication (TTH Điều 11
# khoản 4, VL Điều 12 khoản 4 điểm b)
CAUSE_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("published", "in_progress"): frozenset({"reprocess_requested", "reopened"}),
    ("delivered_privately", "in_progress"): frozenset({"reprocess_requested", "reopened"}),
    ("published", "approved"): frozenset({"reopened"}),
    ("delivered_privately", "approved"): frozenset({"reopened"}),
}

# report fields a decision may set; anything else in a patch is refused
PATCHABLE = frozenset({
    "reasons", "warnings", "category", "ward", "facts", "assigned_agencies", "route", "urgent", "identity_status",
    "result", "publication", "rating", "interactions_open", "deadlines", "extension",
    "extensions", "secret", "non_public",   # every extension of a step; the centre's privacy marks
    "sanction_procedure", "province_referrals",   # the sanction-procedure flag; the centre's reports to the UBND
    "agreement", "previous_results",        # the designated agency's answer; results an update replaced
    "extension_notice", "contact_requests",   # an agency's notice awaiting the centre; agencies given the contact
    "description", "title", "original_text",  # the centre's standardised text and the reporter's original beside it
})
# intake itself may also merge what the reporter sends with a supplement
INTAKE_PATCHABLE = PATCHABLE | {"reporter", "description", "location", "media"}


class IllegalTransition(Exception):
    pass


def allowed(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def plan(report: dict, decision: Decision) -> dict | None:
    """The MongoDB update that applies `decision` to `report`, or None when it was already applied.

    Raises IllegalTransition when the decision does not fit the report's state: the caller records it and
    drops it, since redelivering it can never make it fit.
    """
    if decision.event_id in report.get("applied_events", ()):
        return None
    state = report["state"]
    if decision.from_states is not None and state not in decision.from_states:
        raise IllegalTransition(f"{decision.kind}: report is {state}, expected one of {decision.from_states}")
    if decision.to_state is not None and decision.to_state != state and not allowed(state, decision.to_state) \
            and decision.kind not in CAUSE_TRANSITIONS.get((state, decision.to_state), ()):
        raise IllegalTransition(f"{decision.kind}: {state} → {decision.to_state} is not allowed")
    patchable = INTAKE_PATCHABLE if decision.source == "intake" else PATCHABLE
    unknown = {key.split(".")[0] for key in decision.patch} - patchable
    if unknown:
        raise IllegalTransition(f"{decision.kind}: may not set {sorted(unknown)}")
    to_state = decision.to_state or state
    entry = {
        "at": decision.occurred_at, "kind": decision.kind, "source": decision.source, "from": state, "to": to_state,
        "actor": decision.actor, "detail": decision.detail, "event_id": decision.event_id,
    }
    sets = dict(decision.patch)
    sets["state"] = to_state
    sets["updated_at"] = decision.occurred_at
    return {"$set": sets, "$inc": {"version": 1},
            "$push": {"timeline": entry, "applied_events": decision.event_id}}
