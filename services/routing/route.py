"""Routing's domain: the pack's routing rules pick the lead agency and co-agencies of an accepted report."""
from __future__ import annotations

from datetime import datetime

from paht.assignments import agency_assignment
from paht.route_facts import routing_facts  # noqa: F401  (the service's, and its tests', name for it)
from paht.schemas import Decision
from paht.worktime import calendar_for, intake_opening


def routing_decision(report: dict, pack, result: dict, event_id: str, now: datetime) -> Decision:
    route = dict(report.get("route") or {})
    route.update({"rule": result.get("rule"), "article": result.get("article"), "decided_at": now.isoformat()})
    if result["decision"] != "route":
        route.update({"lead": None, "co": [], "immediate": False})
        return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
                        kind="routing_unresolved", source="routing", to_state="routing_unresolved",
                        from_states=["accepted"], actor={"service": "routing"},
                        detail={"rule": result.get("rule"), "article": result.get("article")},
                        patch={"route": route, "assigned_agencies": []})
    co = [c for c in result.get("co", []) if c != result["lead"]]
    route.update({"lead": result["lead"], "co": co, "immediate": bool(result.get("immediate"))})
    agencies = [agency_assignment(pack, result["lead"], "lead")] + [agency_assignment(pack, c, "co") for c in co]
    return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
                    kind="routed", source="routing", to_state="dispatched", from_states=["accepted"],
                    actor={"service": "routing"},
                    detail={"lead": result["lead"], "co": co, "immediate": route["immediate"],
                            "rule": result.get("rule"), "article": result.get("article")},
                    patch={"route": route, "assigned_agencies": agencies,
                           "urgent": bool(report.get("urgent")) or route["immediate"]})


def held_until(pack, report: dict, result: dict, now: datetime) -> datetime | None:
    """When a report accepted now may be dispatched, if not at once: a normal (not urgent, not immediate) report
    received outside the pack's intake hours waits for the next opening (TTH Điều 4 khoản 2, ST-22 Điều 5 khoản 2,
    ST-23 Điều 8 khoản 2)."""
    if report.get("urgent") or result.get("immediate"):
        return None
    opening = intake_opening(pack.meta, now)
    return opening if opening > now else None


def deferral_decision(report: dict, pack, until: datetime, event_id: str, now: datetime) -> Decision:
    """What the reporter and the centre read while the report waits: received, dispatched at the opening."""
    tz = calendar_for(pack.meta).tz
    intake = pack.meta.get("intake") or {}
    return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
                    kind="dispatch_deferred", source="routing", from_states=["accepted"],
                    actor={"service": "routing"},
                    detail={"until": until.astimezone(tz).isoformat(), "article": intake.get("article"),
                            "message": "Phản ánh đã được tiếp nhận ngoài khung giờ tiếp nhận phản ánh thông thường; "
                                       "phản ánh sẽ được phân phối đến cơ quan xử lý khi bắt đầu khung giờ tiếp nhận "
                                       f"({until.astimezone(tz):%H:%M %d/%m/%Y})."})
