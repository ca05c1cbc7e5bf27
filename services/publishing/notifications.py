"""Who is told what when intake announces a change, in the pack's words, and how each notification reaches them.

Pure functions: `notifications_for` picks the notices of an announcement, `render` fills the pack's template
(`rules/<pack>/templates/notifications/<event>.txt`), `outbox_entries` turns a notice into one outbox document
per channel the recipient can be reached on. The notifier (notify.py) stores, sends and reports them.

Template format (Jinja2, plain text): header lines up to the first blank line — `Subject: …` (required, the
e-mail's subject) and `Zalo-Template: …` (optional, the id of the ZNS template the province registered with Zalo;
without it no Zalo message is sent for that event) —, then the e-mail body (also the agency webhook's `text`),
then a line `--- SMS ---` and the short form (the SMS text and the ZNS template's `text` parameter). Each part
is rendered on its own, so a citizen's or an agency's text can never add a header or a part.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from jinja2 import Environment, StrictUndefined

from paht import settings
from paht.agreement import awaited_agreement, designation_role
from paht.schemas import Transitioned, lead_agency
from paht.worktime import calendar_for

CITIZEN_EVENTS = ("received", "needs_supplement", "rejected", "dispatched", "published", "delivered_privately",
                  "reprocessing", "extension")
AGENCY_EVENTS = ("assigned", "deadline_warning", "deadline_missed", "rework", "returned", "agreement_requested")
# events only a pack whose designated agency coordinates and agrees sends (designation.role `coordinator`)
COORDINATOR_EVENTS = ("agreement_requested",)
# events only a pack whose agency's notice of extension goes to the reporter sends (extension.notice_to_reporter)
EXTENSION_EVENTS = ("extension",)
# events only a pack whose sanction-procedure clause asks for status updates sends (TTH Điều 11 khoản 2, VL Điều 12
# khoản 2 điểm b: "đồng thời thông tin phản hồi tình trạng xử lý"; sanction_procedure.*.status_updates)
SANCTION_EVENTS = ("status_update",)
CITIZEN_EVENTS += SANCTION_EVENTS
EVENTS = CITIZEN_EVENTS + AGENCY_EVENTS

SMS_SEPARATOR = "--- SMS ---"
BACKOFF_SECONDS = 30          # the first pause after a failed attempt; each next one doubles
MAX_BACKOFF_SECONDS = 3600

# steps that are not an agency's to keep (the reporter's, the centre's): their deadlines tell no agency
NOT_AGENCY_STEPS = frozenset({"receive", "supplement", "identity_check", "operator_check", "dispatch", "publish",
                              "sos_callback"})

STEP_NAMES = {
    "acknowledge": "tiếp nhận xử lý", "return": "trả lại phản ánh không đúng thẩm quyền",
    "request_info": "đề nghị cung cấp thông tin", "process": "xử lý", "forward": "chuyển đơn vị phối hợp",
    "co_process": "phối hợp xử lý", "compile": "tổng hợp kết quả", "approve": "phê duyệt kết quả",
    "rework": "thực hiện lại theo yêu cầu của Trung tâm", "designate": "xử lý theo phân công",
    "interaction_reply": "trả lời tương tác của người phản ánh", "co_return": "trả lại phần phối hợp",
    "clarify": "giải trình kết quả", "agree": "thống nhất kết quả",
}
UNIT_NAMES = {"min": "phút", "h": "giờ", "d": "ngày", "wh": "giờ làm việc", "wd": "ngày làm việc"}

# what the reporter does about each reason a report needs a supplement for (the pack's own message says what is
# missing; this says how to send it)
HOW_TO_FIX = {
    "MISSING_REPORTER_INFO": "Mở đường dẫn theo dõi, chọn \"Bổ sung\" và điền đầy đủ thông tin người phản ánh "
                             "(họ tên, số điện thoại, thư điện tử).",
    "MISSING_MEDIA": "Mở đường dẫn theo dõi, chọn \"Bổ sung\" và đính kèm ảnh hoặc video chụp tại hiện trường.",
    "PHOTO_TOO_OLD": "Chụp ảnh mới tại hiện trường rồi gửi qua chức năng \"Bổ sung\" (ảnh phải còn thông tin thời "
                     "điểm chụp).",
    "MISSING_LOCATION": "Bật định vị GPS trên điện thoại tại hiện trường và gửi lại vị trí qua chức năng "
                        "\"Bổ sung\".",
}
HOW_TO_FIX["NOT_VIETNAMESE"] = "Gửi phản ánh mới, viết nội dung bằng tiếng Việt có dấu (bộ mã Unicode)."
DEFAULT_FIX = "Mở đường dẫn theo dõi và gửi thông tin còn thiếu qua chức năng \"Bổ sung\"."


def pack_events(pack) -> tuple[str, ...]:
    """The events a pack may send, each of which needs its template."""
    coordinates = designation_role(pack.meta) == "coordinator"
    notices = extension_notice_to_reporter(pack)
    return tuple(event for event in EVENTS if (coordinates or event not in COORDINATOR_EVENTS)
                 and (notices or event not in EXTENSION_EVENTS)
                 and (status_updates(pack) or event not in SANCTION_EVENTS))


def status_updates(pack) -> bool:
    """A clause of the pack's sanction procedure asks for status updates meanwhile."""
    return any((clause or {}).get("status_updates") for clause in (pack.meta.get("sanction_procedure") or {}).values()
               if isinstance(clause, dict))


def extension_notice_to_reporter(pack) -> bool:
    """The agency's written notice and commitment of an extension go to the reporter ("gửi đến tổ chức, cá nhân",
    ST-22 Điều 10 khoản 2 điểm c, ST-23 Điều 14 khoản 3; `extension.notice_to_reporter`)."""
    return bool((pack.meta.get("extension") or {}).get("notice_to_reporter"))


class Notice(NamedTuple):
    """One thing to tell one party: `event` is the template's name; `agency` the agency told (None: the
    reporter); `role` the agency's part in the report (lead, co), `deadline` the deadline a warning is about."""
    event: str
    agency: str | None = None
    role: str | None = None
    deadline: dict | None = None

    @property
    def recipient(self) -> str:
        return f"agency:{self.agency}" if self.agency else "reporter"


class Rendered(NamedTuple):
    subject: str
    body: str
    short: str
    zalo_template: str | None


# ---- who is told ------------------------------------------------------------------------------------------------
def notifications_for(announced: Transitioned, pack) -> list[Notice]:
    """The notices an announced change sets off (none for most): the reporter is told of receipt, a needed
    supplement, rejection, dispatch, the result and reprocessing; agencies of a new assignment, a deadline coming
    or missed, rework and a report taken back from them; a designated agency of a result awaiting its agreement."""
    report, cause, to_state = announced.report, announced.cause, announced.to_state
    if announced.from_state == to_state:
        if cause in ("deadline_warning", "deadline_missed"):
            deadline = announced_deadline(announced)
            if deadline and deadline.get("agency") and deadline.get("step") not in NOT_AGENCY_STEPS:
                return [Notice(cause, deadline["agency"], deadline=deadline)]
        if cause == "extension_noticed" and extension_notice_to_reporter(pack):
            return [Notice("extension")]
        if cause == "status_updated":
            return [Notice("status_update")]
        return []
    if to_state == "submitted":
        return [Notice("received")] if cause in ("submitted", "supplemented") else []
    if to_state in ("needs_supplement", "rejected", "published", "delivered_privately"):
        return [Notice(to_state)]
    if to_state == "dispatched":
        return [Notice("dispatched")] + [Notice("assigned", a["id"], role=a.get("role"))
                                         for a in report.get("assigned_agencies") or [] if a.get("id")]
    if to_state == "approved":
        awaited = awaited_agreement(pack.meta, report)
        return [Notice("agreement_requested", awaited, role="designated")] if awaited else []
    if to_state == "in_progress" and cause in ("rework_requested", "reprocess_requested", "agreement_refused",
                                               "reopened"):
        lead = lead_agency(report)
        told = [Notice("rework", lead, role="lead")] if lead else []
        return ([Notice("reprocessing")] if cause == "reprocess_requested" else []) + told
    if to_state == "accepted" and cause == "returned":
        returned_by = (report.get("route") or {}).get("returned_by") or []
        return [Notice("returned", returned_by[-1])] if returned_by and returned_by[-1] else []
    return []


def announced_deadline(announced: Transitioned) -> dict | None:
    """The deadline a warning or a miss is about: the sla service's event id is `sla:warn:<deadline id>` (or
    `sla:missed:`), a deadline id `<report id>:<key>:<cause event id>`, and the report keeps it under its key."""
    deadline_id = announced.event_id.split(":", 2)[-1]
    prefix = f"{announced.report_id}:"
    keys = [key for key in (announced.report.get("deadlines") or {})
            if deadline_id.startswith(f"{prefix}{key}:")]
    if not keys:
        return None
    key = max(keys, key=len)
    return dict(announced.report["deadlines"][key], key=key)


# ---- what they read -----------------------------------------------------------------------------------------------
def tracking_link(report_id: str) -> str:
    return f"{settings.public_url()}/reports/{report_id}"


def local_time(value, tz) -> str | None:
    if not value:
        return None
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{instant.astimezone(tz):%H:%M} ngày {instant.astimezone(tz):%d/%m/%Y}"


def context_for(notice: Notice, announced: Transitioned, pack, contact: dict | None) -> dict:
    """Everything a notification template reads."""
    report = announced.report
    tz = calendar_for(pack.meta).tz
    category = report.get("category") or "other"
    agencies = getattr(pack, "agencies", {}) or {}
    publication = report.get("publication") or {}
    deadline = None
    if notice.deadline:
        deadline = {"step": notice.deadline.get("step"), "due": local_time(notice.deadline.get("due"), tz),
                    "step_name": STEP_NAMES.get(notice.deadline.get("step"), notice.deadline.get("step")),
                    "article": notice.deadline.get("article")}
    lead = lead_agency(report)
    suggested = (report.get("route") or {}).get("suggested_agency")
    return {
        "report": {"id": report["id"], "category_name": (pack.categories.get(category) or {}).get("name", category),
                   "ward_name": (report.get("ward") or {}).get("name"),
                   "address": (report.get("location") or {}).get("address"),
                   "description": report.get("description"),
                   "submitted_at": local_time(report.get("submitted_at"), tz)},
        "link": tracking_link(report["id"]),
        "again": announced.cause == "supplemented",
        "cause": announced.cause,
        "reporter_name": (contact or {}).get("name"),
        "reasons": [dict(reason, how=HOW_TO_FIX.get(reason.get("code"), DEFAULT_FIX))
                    for reason in report.get("reasons") or []],
        # what a report dispatched at once under the pack's emergency procedure still lacks, asked beside it
        # (issue 23 item 3: TTH Điều 18, Điều 15; ST-22 Điều 13; ST-23 Điều 19; VL Điều 16)
        # (the report is no longer `needs_supplement`: the reporter gives it when contacted, not through "Bổ sung")
        "beside": [warning for warning in report.get("warnings") or []
                   if warning.get("status") == "beside" and warning.get("action") == "request_supplement"],
        "supplement_time": allowed_time(pack, "supplement"),
        "agree_time": allowed_time(pack, "agree") if notice.event == "agreement_requested" else None,
        "agency": {"id": notice.agency, "name": (agencies.get(notice.agency) or {}).get("name", notice.agency),
                   "role": notice.role} if notice.agency else None,
        "lead_name": (agencies.get(lead) or {}).get("name", lead) if lead else None,
        "suggested_name": (agencies.get(suggested) or {}).get("name", suggested) if suggested else None,
        "deadline": deadline,
        "status_update": (report.get("sanction_procedure") or {}).get("last_update"),
        "result_text": (report.get("result") or {}).get("text"),
        "letter": publication.get("letter"),
        "extension": extension_context(report, agencies, tz),
        "province": pack.meta.get("province"),
        "centre_name": next((a.get("name") for a in agencies.values() if a.get("kind") == "centre"),
                            "Trung tâm tiếp nhận phản ánh hiện trường"),
    }


def extension_context(report: dict, agencies: dict, tz) -> dict:
    """The agency's notice of extension a reporter is told of: the committed time, the reason, who gave it."""
    notice = report.get("extension_notice") or report.get("extension") or {}
    agency = notice.get("by")
    return {"new_due": local_time(notice.get("new_due"), tz),
            "previous_due": local_time(notice.get("previous_due"), tz), "note": notice.get("reason"),
            "agency_name": (agencies.get(agency) or {}).get("name", agency), "article": notice.get("article")}


def allowed_time(pack, step: str) -> str | None:
    """The time the pack gives every report for a step, in words ("02 ngày làm việc"); None when it sets none or
    the time depends on the report. The pack's declaration of the step (paht/rules/steps.py), not an evaluation:
    the sla service alone times a report, and the supplement notice goes out on the change that makes it open the
    step's deadline, before that deadline is on the report."""
    deadline = pack.step(step).deadline
    if deadline is None:
        return None
    amount, unit = deadline["amount"], UNIT_NAMES.get(deadline["unit"], deadline["unit"])
    return f"{int(amount):02d} {unit}" if float(amount).is_integer() else f"{amount} {unit}"


class TemplateError(ValueError):
    """A notification template that does not follow the format (the pack's author must fix it)."""


_ENVIRONMENT = Environment(autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                           keep_trailing_newline=False)


def template_path(pack, event: str) -> Path:
    return Path(pack.path) / "templates" / "notifications" / f"{event}.txt"


@lru_cache(maxsize=256)
def _parts(path: str, _mtime_ns: int):
    source = Path(path).read_text(encoding="utf-8")
    head, blank, rest = source.partition("\n\n")
    if not blank:
        raise TemplateError(f"{path}: the header lines end with a blank line")
    headers = {}
    for line in head.splitlines():
        name, colon, value = line.partition(":")
        if not colon or name.strip() not in ("Subject", "Zalo-Template"):
            raise TemplateError(f"{path}: unknown header line {line!r} (Subject, Zalo-Template)")
        headers[name.strip()] = value.strip()
    if "Subject" not in headers:
        raise TemplateError(f"{path}: no Subject line")
    body, separator, short = rest.partition(f"\n{SMS_SEPARATOR}\n")
    if not separator:
        raise TemplateError(f"{path}: no {SMS_SEPARATOR} line before the short form")
    return (_ENVIRONMENT.from_string(headers["Subject"]), _ENVIRONMENT.from_string(body),
            _ENVIRONMENT.from_string(short), headers.get("Zalo-Template") or None)


def render(pack, event: str, context: dict) -> Rendered:
    """The pack's template of `event` filled in (TemplateError, jinja2 errors when the template is wrong)."""
    path = template_path(pack, event)
    subject, body, short, zalo = _parts(str(path), path.stat().st_mtime_ns)
    return Rendered(" ".join(subject.render(**context).split()), body.render(**context).strip() + "\n",
                    " ".join(short.render(**context).split()), zalo)


# ---- how it reaches them ------------------------------------------------------------------------------------------
def mask(address: str | None) -> str | None:
    """An address as the timeline shows it: "09****567" for a phone, "n***@example.vn" for an e-mail."""
    if not address:
        return None
    if "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}***@{domain}"
    digits = "".join(ch for ch in address if ch.isdigit())
    if len(digits) < 6:
        return "*" * len(digits) if digits else "***"
    return f"{digits[:2]}{'*' * (len(digits) - 5)}{digits[-3:]}"


def zns_phone(phone: str) -> str:
    """A Vietnamese phone number as ZNS takes it: digits, country code 84 instead of the leading 0."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "84" + digits[1:] if digits.startswith("0") else digits


def backoff_seconds(attempts: int) -> float:
    """The pause after the `attempts`-th failed attempt: 30 s, 60 s, 120 s … at most an hour."""
    return min(BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def configured_channels() -> frozenset[str]:
    """The channels whose endpoint is set; a notification on any other is not queued at all."""
    urls = {"email": settings.smtp_url(), "sms": settings.sms_url(), "zalo": settings.zalo_url(),
            "agency_webhook": settings.agency_webhook_url(), "immediate_webhook": settings.immediate_webhook_url()}
    return frozenset(channel for channel, url in urls.items() if url)


def messages(notice: Notice, rendered: Rendered, announced: Transitioned, pack, contact: dict | None,
             channels: frozenset[str]) -> list[tuple[str, str, dict]]:
    """(channel, address, message) for every channel that reaches the notice's recipient and is configured. The
    reporter: the contacts they gave (giving one for a report is consenting to be told about it, unless the
    consent says otherwise); an agency: its systems' webhook, and e-mail where the pack's directory gives one."""
    link = tracking_link(announced.report_id)
    found = []
    if notice.agency is None:
        contact = contact or {}
        consents = contact.get("consents") or {}
        if "email" in channels and contact.get("email") and consents.get("email"):
            found.append(("email", contact["email"],
                          {"to": contact["email"], "subject": rendered.subject, "body": rendered.body}))
        if "sms" in channels and contact.get("phone") and consents.get("sms"):
            found.append(("sms", contact["phone"], {"to": contact["phone"], "text": rendered.short}))
        zalo_to = contact.get("zalo_user_id") or contact.get("phone")
        if "zalo" in channels and rendered.zalo_template and zalo_to and consents.get("zalo"):
            recipient = {"user_id": contact["zalo_user_id"]} if contact.get("zalo_user_id") \
                else {"phone": zns_phone(contact["phone"])}
            found.append(("zalo", zalo_to, {**recipient, "template_id": rendered.zalo_template, "template_data": {
                "report_id": announced.report_id, "name": contact.get("name") or "", "text": rendered.short,
                "link": link}}))
        return found
    if "agency_webhook" in channels:
        payload = {"event": notice.event, "report_id": announced.report_id, "pack": announced.pack,
                   "agency": notice.agency, "text": rendered.body, "link": link}
        if notice.deadline:
            payload["deadline"] = {k: notice.deadline.get(k) for k in ("step", "due", "article")}
        found.append(("agency_webhook", notice.agency, payload))
    email = ((getattr(pack, "agencies", {}) or {}).get(notice.agency) or {}).get("email")
    if "email" in channels and email:
        found.append(("email", email, {"to": email, "subject": rendered.subject, "body": rendered.body}))
    return found


def outbox_entries(announced: Transitioned, pack, notices: list[Notice], contact: dict | None,
                   channels: frozenset[str], now: datetime) -> list[dict]:
    """The outbox documents of the notices of an announcement: one per (event id, recipient, channel), due now."""
    entries = []
    for notice in notices:
        if not channels or notice.agency is None and not contact:
            continue   # nothing configured; the reporter left no contact, or retention already forgot it
        rendered = render(pack, notice.event, context_for(notice, announced, pack, contact))
        for channel, address, message in messages(notice, rendered, announced, pack, contact, channels):
            entries.append(outbox_entry(announced, notice.event, notice.recipient, channel, address,
                                        mask(address) if notice.agency is None else address, message, now))
    return entries


def outbox_entry(announced: Transitioned, template: str, recipient: str, channel: str, address: str | None,
                 shown: str | None, message: dict, now: datetime) -> dict:
    """One notification as the outbox keeps it, due now. `shown` is the address as the timeline shows it (masked
    for a reporter); the id makes a redelivered announcement queue nothing new."""
    return {
        "_id": f"{announced.event_id}|{recipient}|{channel}", "event_id": announced.event_id,
        "report_id": announced.report_id, "pack": announced.pack, "template": template, "recipient": recipient,
        "channel": channel, "to": address, "to_masked": shown, "message": message, "status": "pending",
        "attempts": 0, "round": 1, "next_at": now, "created_at": now, "last_error": None, "reported": False,
    }
