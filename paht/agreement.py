"""Two facts of a report's result that several services read the same way.

The designated agency's agreement before publication (TTH Điều 16 khoản 4, VL Điều 17 khoản 4: "chuyển kết quả cho
Cơ quan được chỉ định phối hợp để xin ý kiến thống nhất trước khi công khai kết quả"): handling records the answer,
publishing refuses to publish without it, publishing's notifier tells the agency, intake lets it see the report.

The update of a result already returned (TTH Điều 11 khoản 4, VL Điều 12 khoản 4 điểm b: "Các phản ánh sau khi đã
trả kết quả nhưng cần cập nhật nội dung xử lý ... yêu cầu trả bước trước phản ánh để cập nhật kết quả hoặc cung cấp
nội dung, kết quả cập nhật để Trung tâm đăng tải"): the result and letter it replaces are kept in
`previous_results`, shown beside the new one.
"""
from __future__ import annotations

from .schemas import lead_agency


def designation_role(pack_meta: dict) -> str:
    """What the agency the province designates does (pack.yaml `designation.role`): `lead` — it processes the
    report itself (ST-22 Điều 16 khoản 3, ST-23 Điều 5); `coordinator` — it names the competent agencies and agrees
    to their result before publication (TTH Điều 16, VL Điều 17)."""
    return (pack_meta.get("designation") or {}).get("role") or "lead"


def designated_agency(report: dict) -> str | None:
    """The agency the province designated for the report (`route.designation`, kept after that agency named the
    competent one and was relieved of the report)."""
    return ((report.get("route") or {}).get("designation") or {}).get("agency")


def agreeing_agency(pack_meta: dict, report: dict) -> str | None:
    """The coordinating agency whose agreement the report's result needs before publication: the designated one,
    unless it processed the report itself. A report designated before the designation was kept on the route
    falls back on the `agree` deadline the sla service opened for it."""
    if designation_role(pack_meta) != "coordinator":
        return None
    agency = designated_agency(report)
    if agency is None:
        pending = (report.get("deadlines") or {}).get("agree") or {}
        agency = pending.get("agency") if pending and not pending.get("closed_at") else None
    return agency if agency and agency != lead_agency(report) else None


def awaited_agreement(pack_meta: dict, report: dict) -> str | None:
    """The agency whose agreement the current approved result still waits for, or None: an agreement counts for
    the result it was given to (the same approval), so a result reworked after a disagreement (or updated after
    publication) is asked again."""
    agency = agreeing_agency(pack_meta, report)
    if agency is None:
        return None
    agreement = report.get("agreement") or {}
    approved_at = (report.get("result") or {}).get("approved_at")
    if agreement.get("agreed") and agreement.get("agency") == agency and agreement.get("approved_at") == approved_at:
        return None
    return agency


def agreement_article(pack) -> str | None:
    """The article of the agreement step (the pack's `agree_time` parameter)."""
    return (pack.parameters.get("agree_time") or {}).get("article")


def update_clause(pack_meta: dict) -> dict | None:
    """The pack's clause on updating a result already returned (pack.yaml `publication.update`), or None."""
    return (pack_meta.get("publication") or {}).get("update") or None


def superseded(report: dict, at: str, note: str | None) -> list[dict]:
    """`previous_results` with the result the report returned until now (its result and letter) marked superseded
    at `at`."""
    publication = report.get("publication") or {}
    entry = {"result": report.get("result"), "publication": publication, "state": report["state"],
             "published_at": publication.get("published_at"), "superseded_at": at, "note": note}
    return list(report.get("previous_results") or []) + [entry]
