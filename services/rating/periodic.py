"""Periodic reports on the pack's schedule (pack.yaml `reports`): when each falls due, and the report as XLSX
(Vietnamese headings, one sheet per section), CSV (the per-agency table) and JSON."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from openpyxl import Workbook

from paht import periods
from paht.events import jsonable
from paht.worktime import calendar_for


@dataclass(frozen=True)
class Due:
    kind: str
    period: periods.Period
    due: datetime
    generate_at: datetime     # the period's end, or its due time when that comes first (then data up to it)
    item: dict


def reports_meta(pack) -> dict:
    return pack.meta.get("reports") or {}


def cutoff(pack) -> int | None:
    return reports_meta(pack).get("cutoff_day")


def due_of(item: dict, period: periods.Period) -> datetime:
    """`days_after_end: N`; `day_of_month: D` (the first day D on or after the period's last day); `month_day:
    "MM-DD"` (that day in the year of the period's last day). Due at the start of that day (\"trước ngày …\")."""
    rule = item.get("due") or {"days_after_end": 0}
    zone = period.end.tzinfo
    last_day = (period.end - timedelta(days=1)).date()
    if "days_after_end" in rule:
        return period.end + timedelta(days=int(rule["days_after_end"]))
    if "day_of_month" in rule:
        day = int(rule["day_of_month"])
        candidate = date(last_day.year, last_day.month, day)
        if candidate < last_day:
            month = last_day.month % 12 + 1
            candidate = date(last_day.year + (month == 1), month, day)
        return datetime.combine(candidate, time(0), zone)
    month, day = (int(part) for part in str(rule["month_day"]).split("-"))
    return datetime.combine(date(last_day.year, month, day), time(0), zone)


def due_since(pack, item: dict, since: datetime | None, now: datetime) -> list[Due]:
    """Every period of this kind whose report fell due in (`since`, `now`], oldest first: a stopped service, or a
    clock that jumped, catches up on each period it passed. Without `since` (the pack's first check) only the
    latest: older periods are made on demand, not back-filled."""
    if (item.get("due") or {}).get("end_of_working_day"):
        return working_days_due(pack, item, since, now)
    tz = pack.meta.get("timezone", "Asia/Ho_Chi_Minh")
    period = periods.containing(item["period"], now, tz, cutoff(pack))
    found: list[Due] = []
    while True:    # back from this period (its due time may come before its end) until one made before `since`
        due = due_of(item, period)
        generate_at = min(period.end, due)
        if generate_at <= now:
            if since is not None and generate_at <= since:
                break
            found.append(Due(item["kind"], period, due, generate_at, item))
            if since is None:
                break
        period = periods.previous(period, tz, cutoff(pack))
    return found[::-1]


def working_day(calendar, day: date) -> periods.Period:
    """Working day `day`'s flash report covers everything since the previous working day's close, up to its own
    close: what comes in after hours, on a weekend or a holiday is in the next working day's report."""
    return periods.Period("day", day.isoformat(), calendar.day_close(calendar.previous_working_day(day)),
                          calendar.day_close(day))


def working_days_due(pack, item: dict, since: datetime | None, now: datetime) -> list[Due]:
    """`due: {end_of_working_day: true}` (ST-22, ST-23 Điều 28 khoản 1: "Cuối ngày làm việc, Trung tâm GSĐH tỉnh
    báo cáo nhanh"): a report for each working day of the pack's calendar (paht/worktime.py: no weekend, holiday
    or day off of its day swaps), due and made at the close of that day's office hours; since `since` as
    `due_since`, without it the latest only."""
    calendar = calendar_for(pack.meta)
    day = now.astimezone(calendar.tz).date()
    if not calendar.is_working_day(day) or calendar.day_close(day) > now:
        day = calendar.previous_working_day(day)
    found: list[Due] = []
    while since is None or calendar.day_close(day) > since:
        period = working_day(calendar, day)
        found.append(Due(item["kind"], period, period.end, period.end, item))
        if since is None:
            break
        day = calendar.previous_working_day(day)
    return found[::-1]


def schedule(pack) -> list[dict]:
    return list(reports_meta(pack).get("schedule") or [])


def report_id(pack_id: str, kind: str, label: str) -> str:
    return f"{pack_id}:{kind}:{label}"


# ---- exports --------------------------------------------------------------------------------------------------
COUNTER_HEADINGS = [
    ("received", "Tiếp nhận"), ("resolved", "Đã công khai kết quả"), ("on_time", "Xử lý đúng hạn"),
    ("late_count", "Bước trễ hạn"), ("late_over_limit_count", "Quá thời hạn báo cáo"),
    ("extended_count", "Gia hạn"), ("extended_without_result", "Gia hạn không có kết quả"),
    ("returns_count", "Trả lại (sai thẩm quyền)"), ("late_returns_count", "Trả lại quá hạn"),
    ("late_returns_rate", "Tỷ lệ trả lại quá hạn"), ("results_count", "Kết quả gửi duyệt"),
    ("rework_count", "Kết quả không đảm bảo nội dung"), ("substandard_results_rate", "Tỷ lệ không đảm bảo"),
    ("corrective_directives", "Văn bản chỉ đạo chấn chỉnh"), ("missed_hotline_calls", "Không nghe máy"),
    ("unanswered_call_violations", "Gọi 3 lần không bắt máy trong 3 ngày"),
    ("interactions_count", "Tương tác"), ("unanswered_interactions", "Tương tác chưa phản hồi"),
    ("unanswered_interactions_rate", "Tỷ lệ chưa phản hồi"), ("repeat_violations", "Vi phạm lặp lại"),
    ("repeat_violations_rate", "Tỷ lệ lặp lại"), ("rereported_over_3", "Bị phản ánh lại quá 3 lần"),
    ("rated_count", "Lượt đánh giá"), ("satisfied_rate", "Tỷ lệ hài lòng"),
    ("satisfied_or_accepted_rate", "Tỷ lệ hài lòng và chấp nhận"),
]
# whose step each late item was (services/sla: the centre's own steps are the centre's, never the lead agency's)
PARTY_NAMES = {"centre": "Trung tâm", "agency": "Cơ quan, đơn vị xử lý", "reporter": "Người phản ánh"}
LATE_HEADINGS = [("report_id", "Mã phản ánh"), ("agency", "Đơn vị"), ("party", "Bước của"), ("step", "Bước"),
                 ("due", "Hạn"), ("missed_at", "Trễ lúc"), ("rule", "Quy tắc"), ("article", "Điều khoản")]
FINDING_HEADINGS = ["Mã đơn vị", "Tên đơn vị", "Quy tắc", "Điều khoản", "Nội dung"]
SHEETS = ("Tổng hợp", "Theo đơn vị", "Danh sách trễ hạn", "Báo cáo UBND tỉnh", "Không xét Hoàn thành xuất sắc",
          "Tiêu chí của quy chế", "Phản ánh đã báo cáo UBND")
# the centre's reports of single reports to the UBND in the period (publishing's refer_to_province)
REFERRAL_HEADINGS = [("report_id", "Mã phản ánh"), ("at", "Ngày báo cáo"), ("number", "Số văn bản"),
                     ("reason", "Trường hợp"), ("agencies", "Cơ quan liên quan"), ("to", "Kính gửi"),
                     ("article", "Điều khoản")]
REASON_NAMES = {"co_agencies_disagree": "Không thống nhất được phương án xử lý",
                "not_thorough": "Xử lý không triệt để", "no_agency": "Không xác định được cơ quan xử lý",
                "not_handled": "Đã giao nhưng không xử lý"}
ACTION_NAMES = {"report_to_province": "Báo cáo UBND tỉnh", "not_eligible_excellent": "Không xét Hoàn thành xuất sắc"}


def agency_rows(content: dict) -> list[list]:
    return [[a["agency"], a["name"]] + [a["counters"].get(key) for key, _ in COUNTER_HEADINGS]
            for a in content["agencies"]]


def finding_rows(content: dict, kind: str) -> list[list]:
    return [[a["agency"], a["name"], f["rule"], f["article"], f.get("title") or f.get("message") or ""]
            for a in content["agencies"] for f in a[kind]]


def _text(value):
    return value.isoformat() if isinstance(value, datetime) else value


def to_xlsx(content: dict) -> bytes:
    book = Workbook()
    totals = book.active
    totals.title = SHEETS[0]
    totals.append(["Quy chế", content["pack_name"] or content["pack"]])
    totals.append(["Kỳ báo cáo", content["period"]])
    totals.append(["Từ", _text(content["start"])])
    totals.append(["Đến (không gồm)", _text(content["end"])])
    totals.append(["Lập lúc", _text(content["generated_at"])])
    for key, heading in COUNTER_HEADINGS:
        if key in (content.get("totals") or {}):
            totals.append([heading, content["totals"][key]])
    per_agency = book.create_sheet(SHEETS[1])
    per_agency.append(["Mã đơn vị", "Tên đơn vị"] + [heading for _, heading in COUNTER_HEADINGS])
    for row in agency_rows(content):
        per_agency.append(row)
    late = book.create_sheet(SHEETS[2])
    late.append([heading for _, heading in LATE_HEADINGS])
    for item in content["late"]:
        late.append([PARTY_NAMES.get(item.get(key), item.get(key)) if key == "party" else _text(item.get(key))
                     for key, _ in LATE_HEADINGS])
    for title, kind in ((SHEETS[3], "report_to_province"), (SHEETS[4], "not_eligible_excellent")):
        sheet = book.create_sheet(title)
        sheet.append(FINDING_HEADINGS)
        for row in finding_rows(content, kind):
            sheet.append(row)
    criteria = book.create_sheet(SHEETS[5])
    criteria.append(["Quy tắc", "Điều khoản", "Tiêu chí", "Hệ quả", "Đơn vị vi phạm trong kỳ"])
    for item in content.get("criteria") or []:
        criteria.append([item["rule"], item["article"], item["title"], ACTION_NAMES[item["action"]],
                         ", ".join(item["agencies"])])
    referrals = book.create_sheet(SHEETS[6])
    referrals.append([heading for _, heading in REFERRAL_HEADINGS])
    for item in content.get("referrals") or []:
        referrals.append([referral_cell(key, item.get(key)) for key, _ in REFERRAL_HEADINGS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def referral_cell(key: str, value):
    if key == "reason":
        return REASON_NAMES.get(value, value)
    if key == "agencies":
        return ", ".join(value or [])
    return _text(value)


def to_csv(content: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Mã đơn vị", "Tên đơn vị"] + [heading for _, heading in COUNTER_HEADINGS])
    writer.writerows(agency_rows(content))
    return ("\ufeff" + out.getvalue()).encode("utf-8")    # with a BOM: spreadsheet programs then read UTF-8


def to_json(content: dict) -> bytes:
    return json.dumps(jsonable(content), ensure_ascii=False, indent=1).encode("utf-8")


RENDERERS = {"xlsx": (to_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
             "csv": (to_csv, "text/csv; charset=utf-8"), "json": (to_json, "application/json; charset=utf-8")}
