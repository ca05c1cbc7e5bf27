"""Staff report lists: the order by deadline, and the export of a list as CSV or XLSX (Vietnamese headers; the
reporter as the viewer may see them, reports.staff_view)."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from paht.rules import get_pack
from paht.schemas import lead_assignment
from paht.worktime import calendar_for

from .reports import public_view, staff_view


def next_due(report: dict) -> datetime | None:
    """The report's current deadline: the earliest due time (as extended) among its deadlines still open."""
    dues = [datetime.fromisoformat(d.get("extended_to") or d["due"])
            for d in public_view(report)["deadlines"] if d.get("due") and not d.get("closed_at")]
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


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """A cell a spreadsheet shows as text, never runs: text a citizen wrote may start like a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def as_csv(rows: list[list]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Vietnamese right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([["" if v is None else inert(v) for v in r] for r in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    sheet = book.active
    sheet.title = "Phản ánh"
    sheet.append(COLUMNS)
    for values in rows:   # control characters a citizen's text may hold cannot be in a sheet: left out
        sheet.append([None if v == "" else ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                      for v in values])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":   # openpyxl reads text starting with "=" as a formula: keep it text
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXPORTS = {
    "csv": ("text/csv; charset=utf-8", as_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", as_xlsx),
}
