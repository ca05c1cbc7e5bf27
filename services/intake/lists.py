"""Staff report lists: the order by deadline, and the rows of an export (Vietnamese headers; the reporter as the
viewer may see them, views.staff_view). The gateway writes the rows as CSV or XLSX."""
from __future__ import annotations

from datetime import datetime

from paht.rules import get_pack
from paht.schemas import lead_assignment
from paht.worktime import calendar_for

from .views import shown_deadlines, staff_view


def next_due(report: dict) -> datetime | None:
    """The report's current deadline: the earliest due time (as extended) among its deadlines still open."""
    dues = [datetime.fromisoformat(d.get("extended_to") or d["due"])
            for d in shown_deadlines(report)[0] if d.get("due") and not d.get("closed_at")]
    return min(dues, default=None)


def ordered(reports: list[dict], sort: str) -> list[dict]:
    """`due`/`-due` (reports without an open deadline last either way), `submitted`/`-submitted`."""
    if sort in ("submitted", "-submitted"):
        return sorted(reports, key=lambda r: (r["submitted_at"], r["_id"]), reverse=sort == "-submitted")
    timed = [(next_due(r), r) for r in reports]
    dated = sorted(((due, r) for due, r in timed if due is not None), key=lambda pair: (pair[0], pair[1]["_id"]),
                   reverse=sort == "-due")
    return [r for _, r in dated] + [r for due, r in timed if due is None]


COLUMNS = ("Mã phản ánh", "Quy chế", "Trạng thái", "Lĩnh vực", "Phường/xã", "Cơ quan chủ trì", "Kênh",
           "Thời điểm gửi", "Hạn hiện tại", "Trễ hạn", "Nội dung", "Địa chỉ", "Vĩ độ", "Kinh độ",
           "Người phản ánh", "Số điện thoại", "Thư điện tử", "Người nhập")


def _local(moment: datetime | None, pack_id: str) -> str:
    if moment is None:
        return ""
    try:
        tz = calendar_for(get_pack(pack_id).meta).tz
    except KeyError:
        return moment.isoformat()
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def row(report: dict, viewer: dict) -> list:
    """One report as a row of COLUMNS, its reporter shown (or masked) as `staff_view` shows it to `viewer`."""
    view = staff_view(report, viewer)
    reporter = view.get("reporter") or {}
    location = view.get("location") or {}
    lead = lead_assignment(view) or {}
    return [view["id"], view["pack"], view["state"], view.get("category") or "", (view.get("ward") or {}).get("name")
            or "", lead.get("name") or lead.get("id") or "", view.get("channel") or "",
            _local(report["submitted_at"], report["pack"]), _local(next_due(report), report["pack"]),
            "Có" if view["late"] else "Không", view.get("description") or "", location.get("address") or "",
            location.get("lat"), location.get("lon"), reporter.get("name") or "", reporter.get("phone") or "",
            reporter.get("email") or "", (view.get("entered_by") or {}).get("name") or ""]
