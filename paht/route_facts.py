"""The facts the pack's routing rules decide on, read from a report: one reading for the routing service (a report
just accepted, or returned with the competent agency named) and for the centre's designation (handling), so the
pack's `*-route-designated` rule routes a designated report as its other rules route the rest."""
from __future__ import annotations


def routing_facts(report: dict) -> dict:
    route = report.get("route") or {}
    ward = report.get("ward") or {}
    return {
        "category": report.get("category") or "other",
        "urgent": bool(report.get("urgent")),
        "ward_code": ward.get("code") or "",
        "ward_found": bool(ward.get("code")),
        "inside_province": bool((report.get("facts") or {}).get("inside_province", ward.get("code") is not None)),
        "suggested_agency": route.get("suggested_agency") or "",
        "designated_agency": route.get("designated_agency") or "",
        "returned_count": int(route.get("returned_count", 0)),
    }
