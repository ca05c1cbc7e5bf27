"""The facts the pack's sla rules decide a step's deadline on, read from a report: one reading for the sla service
(which opens the deadline) and for `paht rules replay` (which decides it again under another pack)."""
from __future__ import annotations


def sla_facts(report: dict, step: str, rework_kind: str = "", multi_agency: bool | None = None) -> dict:
    """`multi_agency`: the multi-agency procedure is in force — the lead has forwarded the report to co-agencies
    (ST-22 Điều 10 khoản 2 điểm b, ST-23 Điều 14 khoản 2 Bước 1); the sla service knows (default: co-agencies are
    assigned)."""
    agencies = report.get("assigned_agencies") or []
    return {
        "step": step,
        "urgent": bool(report.get("urgent")),
        "multi_agency": len(agencies) > 1 if multi_agency is None else bool(multi_agency),
        "designated": bool((report.get("route") or {}).get("designated_agency")),
        "rework_kind": rework_kind or "",
        "sanction_procedure": bool(report.get("sanction_procedure")),
        # per-category deadlines ("03 ngày làm việc đối với các lĩnh vực hạ tầng đô thị, vệ sinh môi trường…"): the
        # report's category as intake keeps it (the reporter's, else the classifier's)
        "category": report.get("category") or "",
    }
