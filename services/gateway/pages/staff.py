"""Interfaces (b) and (c): the agencies' business pages and the unit leaders' summary. Sign-in (/staff/login, a
login session in the `paht_staff` cookie, by password or the province's identity provider (signin.py);
/staff/logout), the signed-in user's queue (/staff/, with CSV/XLSX
exports), a report's internal view with one form per staff action (/staff/reports/{id}, each form POSTing to
/staff/reports/{id}/{action}) and the leader's dashboard of its unit (/staff/dashboard). Every page calls what the
JSON API calls with the signed-in user: the record decides what the user sees, the deciders what it may do — the
tables below only choose which forms to show."""
from __future__ import annotations

import json
import secrets
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import eventlet
from pydantic import ValidationError
from werkzeug.wrappers import Response

from paht import clock, periods, proxies, settings
from paht.actions import DECIDERS
from paht.agreement import designated_agency, update_clause
from paht.errors import ApiError
from paht.mediatypes import detect
from paht.roles import AGENCY_ROLES, CENTRE_ROLES
from paht.rules import get_pack, list_packs
from paht.schemas import StaffActionIn, StaffQuery
from paht.states import LABELS, TERMINAL
from paht.web import http, validation_fields
from paht.worktime import calendar_for

from ..listings import exported
from ..record import user_of
from ..staff import LoginIn
from ..uploads import read_media
from .recent import RecentCounts
from .signin import OidcSignIn
from .web import CSRF_COOKIE, DEFAULT_TZ, SESSION_COOKIE, page, signed_in

LOGIN = "/staff/login"
QUEUE_FIELDS = ("state", "category", "ward", "late", "agency", "pack")   # the API's StaffQuery names
QUEUE_LIMIT, MORE = 50, 50
OPEN_LISTED = 1000                  # the most reports the dashboard counts as open now (StaffQuery's limit)
WARNING = timedelta(hours=24)       # "sắp đến hạn": the next deadline within a day
TREND_MONTHS = 6

# Which forms a report's page offers (the deciders still decide: a refused action shows their error).
LEAD_ACTIONS = {            # the lead agency's accounts
    "dispatched": ("acknowledge", "return"),
    "in_progress": ("submit_result", "extend", "request_info", "forward", "return"),
    "result_submitted": ("approve", "send_back"),
    "approved": ("agree",),
    "published": ("clarify",),
    "delivered_privately": ("clarify",),
}
CO_ACTIONS = {              # a co-agency's own part of a forwarded report
    "in_progress": ("acknowledge", "submit_result", "return"),
    "result_submitted": ("submit_result", "approve"),
    "approved": ("agree",),
}
LEADER_ONLY = ("approve", "send_back")
CENTRE_ACTIONS = {          # the provincial centre (operators, admins)
    "submitted": ("judge",),
    "needs_supplement": ("judge",),
    "accepted": ("judge",),
    "dispatched": ("unresolve",),
    "routing_unresolved": ("designate",),
    "approved": ("publish", "rework", "agree"),
    "published": ("reopen",),
    "delivered_privately": ("reopen",),
}
CENTRE_WHILE_OPEN = ("directive", "missed_call", "mark_secret", "mark_non_public")
JUDGEMENTS = ("identity", "category", "urgent", "unclear_media", "unclear_or_test", "monitoring_only")

ACTION_LABELS = {
    "sanction_procedure": "Xử lý theo quy trình xử phạt vi phạm hành chính",
    "status_update": "Thông tin tình trạng xử lý", "refer_to_province": "Báo cáo UBND tỉnh xem xét, chỉ đạo",
    "acknowledge": "Tiếp nhận xử lý",
    "return": "Trả lại (không thuộc thẩm quyền)",
    "request_info": "Đề nghị người phản ánh cung cấp thêm thông tin",
    "extend": "Gia hạn thời gian xử lý",
    "forward": "Chuyển cơ quan phối hợp",
    "submit_result": "Báo cáo kết quả xử lý",
    "approve": "Phê duyệt kết quả",
    "send_back": "Trả lại để xử lý tiếp",
    "designate": "Chỉ định cơ quan chủ trì",
    "unresolve": "Chưa xác định được cơ quan xử lý (chờ chỉ định)",
    "rework": "Yêu cầu xử lý lại",
    "directive": "Ghi nhận văn bản chỉ đạo chấn chỉnh",
    "missed_call": "Ghi nhận cuộc gọi không được trả lời",
    "reply": "Trả lời người phản ánh",
    "mark_secret": "Đánh dấu bí mật nhà nước",
    "mark_non_public": "Đánh dấu tiếp nhận không công khai",
    "clarify": "Giải trình kết quả",
    "agree": "Ý kiến thống nhất kết quả",
    "called_back": "Đã gọi lại người phản ánh (SOS)",
    "judge": "Đánh giá của Trung tâm",
    "publish": "Công khai kết quả",
    "reopen": "Mở lại để cập nhật kết quả",
    "set_extension": "Cập nhật thời hạn gia hạn theo văn bản của cơ quan xử lý",
    "request_contact": "Yêu cầu cung cấp thông tin người phản ánh",
    "edit_text": "Chuẩn hóa thông tin (sửa chính tả, thể thức)",
}
REFERRAL_LABELS = {         # why the centre reports a report to the UBND (pack.yaml province_referral.reasons)
    "co_agencies_disagree": "Các cơ quan xử lý không thống nhất được phương án xử lý",
    "not_thorough": "Phản ánh liên quan nhiều cơ quan xử lý không triệt để",
    "no_agency": "Không xác định được cơ quan xử lý",
    "not_handled": "Đã giao cơ quan xử lý nhưng không xử lý (chậm trễ)",
}
KIND_LABELS = {             # the timeline's entries (their `kind`)
    "sanction_procedure_started": "Xử lý theo quy trình xử phạt vi phạm hành chính",
    "status_updated": "Thông tin tình trạng xử lý", "referred_to_province": "Báo cáo UBND tỉnh",
    "submitted": "Người dân gửi phản ánh", "verified": "Kiểm tra điều kiện tiếp nhận",
    "supplemented": "Người dân bổ sung",
    "routed": "Chuyển cơ quan xử lý", "routing_unresolved": "Chưa xác định được cơ quan",
    "dispatch_deferred": "Hoãn chuyển (ngoài giờ)", "acknowledged": "Tiếp nhận xử lý",
    "returned": "Trả lại (không thuộc thẩm quyền)", "info_requested": "Đề nghị bổ sung thông tin",
    "extended": "Gia hạn", "forwarded": "Chuyển cơ quan phối hợp", "result_submitted": "Báo cáo kết quả",
    "approved": "Phê duyệt kết quả", "sent_back": "Trả lại để xử lý tiếp", "designated": "Chỉ định cơ quan",
    "rework_requested": "Yêu cầu xử lý lại", "directive": "Văn bản chỉ đạo chấn chỉnh",
    "missed_call": "Cuộc gọi không được trả lời", "interaction": "Người phản ánh hỏi",
    "interaction_replied": "Trả lời người phản ánh", "marked_secret": "Đánh dấu bí mật nhà nước",
    "marked_non_public": "Đánh dấu không công khai", "clarified": "Giải trình kết quả",
    "clarification_requested": "Yêu cầu giải trình", "agreed": "Thống nhất kết quả",
    "agreement_refused": "Không thống nhất kết quả", "called_back": "Gọi lại người phản ánh",
    "judged": "Trung tâm đánh giá", "published": "Công khai kết quả", "delivered_privately": "Gửi kết quả riêng",
    "rated": "Người phản ánh đánh giá", "reprocess_requested": "Yêu cầu xử lý lại (không hài lòng)",
    "cancelled": "Người phản ánh hủy", "notified": "Đã thông báo", "deadline_opened": "Bắt đầu tính hạn",
    "deadline_closed": "Kết thúc bước", "deadline_missed": "Trễ hạn", "co_acknowledged": "Cơ quan phối hợp tiếp nhận",
    "co_returned": "Cơ quan phối hợp trả lại", "co_result_submitted": "Cơ quan phối hợp báo cáo phần việc",
    "co_result_approved": "Phê duyệt phần việc phối hợp", "identity_check_started": "Xác minh danh tính",
    "operator_check_started": "Trung tâm kiểm tra", "reopened": "Mở lại để cập nhật kết quả",
    "extension_noticed": "Cơ quan xử lý thông báo gia hạn", "contact_requested": "Yêu cầu thông tin người phản ánh",
    "text_edited": "Chuẩn hóa thông tin",
}
STEP_LABELS = {
    "receive": "Tiếp nhận", "dispatch": "Chuyển xử lý", "acknowledge": "Nhận xử lý", "process": "Xử lý",
    "approve": "Phê duyệt", "publish": "Công khai", "return": "Trả lại", "request_info": "Bổ sung thông tin",
    "supplement": "Người dân bổ sung", "identity_check": "Xác minh danh tính", "operator_check": "Trung tâm kiểm tra",
    "designate": "Chỉ định", "agree": "Thống nhất", "rework_format": "Làm lại (thể thức)",
    "rework_content": "Làm lại (nội dung)", "interaction_reply": "Trả lời tương tác", "clarify": "Giải trình",
    "sos_callback": "Gọi lại SOS",
}
ROUTE_LABELS = {"rule": "Quy tắc", "article": "Căn cứ", "decided_at": "Thời điểm", "lead": "Cơ quan chủ trì",
                "co": "Cơ quan phối hợp", "immediate": "Xử lý ngay", "suggested_agency": "Cơ quan được đề xuất",
                "returned_count": "Số lần trả lại", "returned_by": "Cơ quan đã trả lại",
                "designated_agency": "Cơ quan được chỉ định", "designated_by": "Người chỉ định",
                "designation": "Chỉ định của UBND tỉnh", "unresolved_by": "Người xác định chưa có cơ quan xử lý"}
ROLE_LABELS = {"reporter": "Người phản ánh", "agency_staff": "Cán bộ xử lý", "agency_leader": "Lãnh đạo đơn vị",
               "operator": "Trung tâm giám sát", "admin": "Quản trị", "system": "Hệ thống"}
COUNTER_LABELS = {          # services/rating/scorecards.py SUMMED, in the regulations' words
    "received": "Phản ánh được giao xử lý",
    "resolved": "Phản ánh đã có kết quả",
    "on_time": "Xử lý đúng hạn",
    "late_count": "Lượt trễ hạn",
    "late_over_limit_count": "Quá thời gian xử lý theo quy định",
    "extended_count": "Lượt gia hạn",
    "extended_without_result": "Gia hạn nhưng không cập nhật kết quả",
    "returns_count": "Trả lại do không thuộc thẩm quyền",
    "late_returns_count": "Trả lại quá hạn",
    "results_count": "Kết quả đã báo cáo",
    "rework_count": "Kết quả không đảm bảo nội dung",
    "corrective_directives": "Văn bản chỉ đạo chấn chỉnh",
    "missed_hotline_calls": "Không nhận cuộc gọi của Trung tâm",
    "unanswered_call_violations": "Gọi 3 lần không bắt máy trong 3 ngày",
    "interactions_count": "Tương tác của người phản ánh",
    "unanswered_interactions": "Tương tác chưa được trả lời",
    "repeat_violations": "Vi phạm được lặp lại",
    "rereported_over_3": "Phản ánh lại quá 03 lần",
    "rated_count": "Lượt đánh giá",
}
RATE_LABELS = {
    "satisfied_rate": "Tỷ lệ hài lòng",
    "satisfied_or_accepted_rate": "Tỷ lệ hài lòng và chấp nhận được",
    "late_returns_rate": "Tỷ lệ trả lại quá hạn",
    "substandard_results_rate": "Tỷ lệ kết quả không đảm bảo",
    "unanswered_interactions_rate": "Tỷ lệ tương tác chưa trả lời",
    "repeat_violations_rate": "Tỷ lệ vi phạm lặp lại",
}
FINDING_LABELS = {"report_to_province": "Tổng hợp báo cáo UBND tỉnh",
                  "not_eligible_excellent": "Không xét “Hoàn thành xuất sắc nhiệm vụ”"}


# ---- small helpers ------------------------------------------------------------------------------------------------
def safe_next(target: str | None) -> str | None:
    """Where to go after signing in: one of our staff or centre pages only (never another site, never the login
    itself)."""
    target = (target or "").strip()
    if not target.startswith(("/staff/", "/centre/")) or "\\" in target or len(target) > 500 \
            or target.startswith((LOGIN, "/staff/logout")):
        return None
    return target


def login_url(request, back: str | None = None) -> str:
    if back is None:
        back = request.path + (f"?{request.query_string.decode('latin-1')}" if request.query_string else "")
    target = safe_next(back)
    return LOGIN + (f"?{urlencode({'next': target})}" if target and target != "/staff/" else "")


def pack_zone(pack_id: str | None):
    try:
        return calendar_for(get_pack(pack_id or "").meta).tz
    except KeyError:
        return DEFAULT_TZ


def when(value) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def category_names(pack_ids) -> dict[str, str]:
    names: dict[str, str] = {}
    for pack_id in pack_ids:
        try:
            names.update({code: (c or {}).get("name", code) for code, c in get_pack(pack_id).categories.items()})
        except KeyError:
            continue
    return names


def agencies_of(pack_id: str | None) -> dict[str, str]:
    try:
        return {agency_id: a.get("name", agency_id) for agency_id, a in get_pack(pack_id or "").agencies.items()}
    except KeyError:
        return {}


def flag(text: str | None):
    """A form's true/false (radio buttons "true" / "false"); None when not given."""
    return {"true": True, "false": False}.get((text or "").strip().lower())


def text(form, name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def action_body(form, zone) -> dict:
    """The form's fields (the API's names) as the body of `POST /api/v1/staff/reports/{id}/{action}`."""
    body = {name: text(form, name) for name in ("note", "agency", "result_text", "kind", "letter_number",
                                                "interaction_id", "question", "description", "title",
                                                "reason")}
    body = {name: value for name, value in body.items() if value is not None}
    agencies = [a.strip() for a in form.getlist("agencies") if a.strip()]
    if agencies:
        body["agencies"] = agencies
    if text(form, "new_due"):
        body["new_due"] = local_moment(form["new_due"], zone)
    if text(form, "value.name"):          # the centre's judgement: {"name", "value"}
        given = text(form, "value.value") or ""
        body["value"] = {"name": form["value.name"].strip(),
                         "value": flag(given) if flag(given) is not None else given}
    elif text(form, "value"):
        body["value"] = flag(form["value"]) if flag(form["value"]) is not None else form["value"].strip()
    return body


def local_moment(value: str, zone) -> str:
    """A datetime-local field (YYYY-MM-DDTHH:MM, the report's province's time) as an aware ISO timestamp."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApiError("VALIDATION_FAILED", fields={"new_due": "dd/mm/yyyy HH:MM"}) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()


def queue_item(report: dict, now: datetime) -> dict:
    """A listed report with its badges: late (a deadline missed, or the next one passed), or due within a day."""
    due = when(report.get("due"))
    late = bool(report.get("late")) or (due is not None and due <= now)
    return dict(report, late_now=late, soon=not late and due is not None and due - now <= WARNING,
                lead=next((a for a in report.get("assigned_agencies") or [] if a.get("role") == "lead"), None))


def offered_actions(view: dict, user: dict) -> list[str]:
    """The forms to show on a report's page for this user: its role's actions in the report's state."""
    state, role, agency = view["state"], user["role"], user.get("agency")
    pack = get_pack(view["pack"])
    publication = pack.meta.get("publication") or {}
    open_agree = [d for d in view.get("deadlines") or [] if d.get("step") == "agree" and not d.get("closed_at")]
    offered: list[str] = []
    if role in CENTRE_ROLES:
        offered += CENTRE_ACTIONS.get(state, ())
        if state not in TERMINAL:
            offered += [a for a in CENTRE_WHILE_OPEN
                        if a not in ("mark_secret", "mark_non_public")
                        or publication.get("state_secrets" if a == "mark_secret" else "non_public")]
            if view.get("sos"):
                offered.append("called_back")
    elif role in AGENCY_ROLES:
        assigned = {a["id"]: a.get("role") for a in view.get("assigned_agencies") or []}
        table = LEAD_ACTIONS if assigned.get(agency) == "lead" else CO_ACTIONS if assigned.get(agency) == "co" \
            else {}
        offered += [a for a in table.get(state, ()) if a not in LEADER_ONLY or role == "agency_leader"]
        if "clarify" in offered and not view.get("rating"):
            offered.remove("clarify")
        if state == "approved" and designated_agency(view) == agency:
            offered.append("agree")   # the designated agency's agreement before publication
    if "reopen" in offered and update_clause(pack.meta) is None:
        offered.remove("reopen")
    offered += procedure_actions(view, user, pack)
    offered += receipt_actions(view, user, pack)
    if "agree" in offered and (not open_agree or role in AGENCY_ROLES and open_agree[0].get("agency") != agency):
        offered.remove("agree")
    return list(dict.fromkeys(offered))


def procedure_actions(view: dict, user: dict, pack) -> list[str]:
    """The sanction-procedure flag and its status updates (the lead agency or the centre), where the pack's clause
    for the report's procedure has them; the centre's report to the UBND where the pack names its reasons."""
    state, lead = view["state"], user["role"] in CENTRE_ROLES or any(
        a.get("id") == user.get("agency") and a.get("role") == "lead" for a in view.get("assigned_agencies") or [])
    clause = (pack.meta.get("sanction_procedure") or {}).get("immediate" if view.get("urgent") else "normal")
    flag = view.get("sanction_procedure") or {}
    offered = []
    if lead and clause and not flag and state in ("dispatched", "in_progress"):
        offered.append("sanction_procedure")
    if lead and flag.get("status_updates") and state in ("in_progress", "result_submitted"):
        offered.append("status_update")
    if user["role"] in CENTRE_ROLES and pack.meta.get("province_referral") \
            and state not in ("rejected", "cancelled", "forwarded_for_monitoring"):
        offered.append("refer_to_province")
    return offered


def receipt_actions(view: dict, user: dict, pack) -> list[str]:
    """The centre's standardisation of the text on receipt (text_edit) and its setting of an extension's time from
    the agency's notice (extension.due_set_by centre); an agency's request for the reporter's contact data where
    the pack gives it on request (publication.reporter_contact.agencies on_request)."""
    state, role, agency = view["state"], user["role"], user.get("agency")
    offered = []
    if role in CENTRE_ROLES:
        if pack.meta.get("text_edit") and state in ("submitted", "accepted", "routing_unresolved", "dispatched"):
            offered.append("edit_text")
        if state == "in_progress" and (view.get("extension") or {}).get("set") is False:
            offered.append("set_extension")
    elif role in AGENCY_ROLES and agency in {a["id"] for a in view.get("assigned_agencies") or []}:
        contact = (pack.meta.get("publication") or {}).get("reporter_contact") or {}
        if contact.get("agencies") == "on_request" and (view.get("reporter") or {}).get("masked") \
                and not view.get("keep_private") and not view.get("secret"):
            offered.append("request_contact")
    return offered


def unanswered(view: dict, user: dict) -> list[dict]:
    """The reporter's messages an assigned agency's account may answer."""
    if user["role"] not in AGENCY_ROLES or user.get("agency") not in {a["id"] for a in view.get("assigned_agencies")
                                                                     or []}:
        return []
    return [item for item in view.get("interactions") or [] if item.get("reply") is None]


def common_part(view: dict, categories: dict[str, str]) -> dict:
    """The staff view as templates/_report.html reads the public one: the state changes of the timeline, the
    category by its name, no result (the staff sections show the agency's result and the letter themselves)."""
    return dict(view, result=None, category=categories.get(view.get("category"), view.get("category")),
                timeline=[e for e in view["timeline"] if e.get("from") != e["to"]])


def local_day(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y")


def month_labels(period: periods.Period, tz: str, cutoff: int | None, count: int) -> list[str]:
    """The `count` months up to the one the period ends in (or now, for a period still running), oldest first."""
    last = min(period.end - timedelta(seconds=1), clock.now())
    month = periods.containing("month", last, tz, cutoff)
    labels = [month.label]
    for _ in range(count - 1):
        month = periods.previous(month, tz, cutoff)
        labels.append(month.label)
    return labels[::-1]


def unit_card(cards: dict, agency: str | None) -> dict:
    """One agency's counters in a scorecards answer (zeros when it had nothing in the period), or the province's
    totals without an agency."""
    if agency is None:
        return cards.get("totals") or {}
    row = next((a for a in cards.get("agencies") or [] if a["agency"] == agency), None)
    return (row or {}).get("counters") or {}


# ---- the pages ------------------------------------------------------------------------------------------------
class StaffPages(OidcSignIn):
    recent = RecentCounts()   # the dashboard's scorecards, counted at most a minute ago (recent.py)

    def staff_or_login(self, request) -> dict | None:
        return signed_in(self.store, request)

    # ---- sign-in ---------------------------------------------------------------------------------------------
    @http("GET", "/staff/login")
    @page
    def staff_login_form(self, request, page):
        """The sign-in form (username, password); a signed-in user goes to their queue."""
        if self.staff_or_login(request) is not None:
            return page.redirect(safe_next(request.args.get("next")) or "/staff/")
        return self.login_again(request, page, "", safe_next(request.args.get("next")),
                                done=request.args.get("done") == "logout")

    def login_again(self, request, page, username: str, target: str | None, error: ApiError | None = None,
                    done: bool = False):
        return page.render("staff/login.html", status=error.status if error else 200, user=None, username=username,
                           next=target, error=error, done=done, oidc=settings.oidc_sign_in())

    @http("POST", "/staff/login")
    @page
    def staff_login(self, request, page):
        """Signs in as the API's login does (same rate limits, same 401): the session token goes into the
        `paht_staff` cookie (HttpOnly, SameSite=Lax, Secure outside dev/test) for the session's minutes."""
        self.within_rate(f"login:{proxies.of_request(request)}")
        form = request.form
        target = safe_next(form.get("next"))
        username = (form.get("username") or "").strip()[:100]
        try:
            given = LoginIn.model_validate({"username": username, "password": form.get("password") or ""})
        except ValidationError as exc:
            return self.login_again(request, page, username, target,
                                    ApiError("VALIDATION_FAILED", fields=validation_fields(exc)))
        self.within_rate(f"login-user:{given.username.lower()}")
        session = self.store.accounts.login(given.username, given.password, settings.session_minutes())
        if session is None:
            return self.login_again(request, page, username, target, ApiError(
                "UNAUTHORIZED", detail="wrong username or password, or the account is disabled"))
        token, _expires_at, _account = session
        return self.signed_in_now(page, token, target)

    def signed_in_now(self, page, token: str, target: str | None):
        page.set_cookie(SESSION_COOKIE, token, max_age=settings.session_minutes() * 60)
        page.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(24))   # a new CSRF secret with the new session
        return page.redirect(target or "/staff/")

    @http("POST", "/staff/logout")
    @page
    def staff_logout(self, request, page):
        """Ends the login session (as `POST /api/v1/auth/logout`) and clears the cookie."""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            self.store.accounts.logout(token)
        page.clear_cookie(SESSION_COOKIE)
        return page.redirect(f"{LOGIN}?done=logout")

    # ---- the queue -------------------------------------------------------------------------------------------
    def queue_query(self, request, limit: int | None = None, **fixed) -> StaffQuery:
        """The API's StaffQuery from the filters given (empty fields left out)."""
        asked = {name: request.args[name].strip() for name in QUEUE_FIELDS if (request.args.get(name) or "").strip()}
        if (request.args.get("limit") or "").strip() or limit:
            asked["limit"] = (request.args.get("limit") or "").strip() or limit
        return self.validated(StaffQuery, asked | fixed)

    @http("GET", "/staff")
    @page
    def staff_home(self, request, page):
        return page.redirect("/staff/")

    @http("GET", "/staff/")
    @page
    def staff_queue(self, request, page):
        """The signed-in user's reports (its agency's; the province's for the centre), the nearest due first,
        with late and "due soon" badges, filters as a GET form, more by a larger limit, CSV/XLSX exports."""
        user = self.staff_or_login(request)
        if user is None:
            return page.redirect(login_url(request))
        query = self.queue_query(request, limit=QUEUE_LIMIT, sort="due")
        found = self.record.staff_list(user=user_of(user), query=query.model_dump(mode="json", exclude_unset=True))
        now = clock.now()
        reports = [queue_item(r, now) for r in found["reports"]]
        filters = {k: v for k, v in request.args.items() if k in QUEUE_FIELDS and v}
        pack_ids = [user["pack"]] if user.get("pack") else [query.pack] if query.pack else list_packs()
        return page.render(
            "staff/queue.html", user=user, reports=reports, query=query, filters=filters,
            unit=agencies_of(user.get("pack")).get(user.get("agency"), user.get("agency")),
            states=[(s, label) for s, label in LABELS.items()], categories=category_names(pack_ids),
            agencies=agencies_of(user.get("pack") or query.pack) if user["role"] in CENTRE_ROLES else {},
            packs=list_packs() if user.get("pack") is None and user["role"] in CENTRE_ROLES else [],
            more_url="/staff/?" + urlencode(filters | {"limit": min(query.limit + MORE, 1000)})
            if len(reports) >= query.limit and query.limit < 1000 else None,
            export_query=urlencode(filters))

    @http("GET", "/staff/export.<string:fmt>")
    @page
    def staff_export(self, request, page, fmt):
        """The queue's filters as the API's export (`format=csv|xlsx`): every matching report, nearest due first."""
        user = self.staff_or_login(request)
        if user is None:
            return page.redirect(login_url(request))
        if fmt not in ("csv", "xlsx"):
            raise ApiError("ROUTE_NOT_FOUND")
        query = self.queue_query(request, sort="due", format=fmt)
        found = self.record.staff_list(user=user_of(user), query=query.model_dump(mode="json", exclude_unset=True))
        response = exported(found, fmt)
        response.headers["Cache-Control"] = "no-store"   # the reporters' data as this user may see it
        return page.finish(response)

    # ---- a report --------------------------------------------------------------------------------------------
    @http("GET", "/staff/reports/<string:report_id>")
    @page
    def staff_report_page(self, request, page, report_id):
        """The internal view (the reporter as the record shows this user) and a form per action to try."""
        user = self.staff_or_login(request)
        if user is None:
            return page.redirect(login_url(request))
        done = request.args.get("done")
        return self.report_again(request, page, user, report_id[:64], done=done if done in DECIDERS else None)

    def report_again(self, request, page, user: dict, report_id: str, done: str | None = None,
                     error: ApiError | None = None, failed: str | None = None):
        view = self.record.staff_report(user=user_of(user), report_id=report_id)
        agencies, categories = agencies_of(view["pack"]), category_names([view["pack"]])
        return page.render(
            "staff/report.html", status=error.status if error else 200, user=user,
            view=common_part(view, categories),
            staff=view, photos=[], actions=offered_actions(view, user), unanswered=unanswered(view, user),
            labels=ACTION_LABELS, kinds=KIND_LABELS, steps=STEP_LABELS,
            route_labels=ROUTE_LABELS, roles=ROLE_LABELS, agencies=agencies, done=done, error=error, failed=failed,
            form=request.form if failed else {}, categories=categories,
            referral_labels=REFERRAL_LABELS, referral_reasons=list(((get_pack(view["pack"]).meta.get("province_referral") or {}).get("reasons")
                                   or {})),
            judgements=list(dict.fromkeys([c["name"] for c in view.get("pending_checks") or []] + list(JUDGEMENTS))),
            process_due=next((d.get("extended_to") or d.get("due") for d in view.get("deadlines") or []
                              if d.get("step") == "process" and not d.get("closed_at")), None),
            media_url=f"/staff/reports/{quote(view['id'])}/media/")

    @http("POST", "/staff/reports/<string:report_id>/<string:action>")
    @page
    def staff_action_page(self, request, page, report_id, action):
        """One action, as `POST /api/v1/staff/reports/{id}/{action}` (the result's photos as `media` files): then
        back to the report with a notice, or the report again with the API's refusal."""
        report_id = report_id[:64]
        user = self.staff_or_login(request)
        if user is None:
            return page.redirect(login_url(request, f"/staff/reports/{report_id}"))
        if action not in DECIDERS:
            raise ApiError("UNKNOWN_ACTION", fields={"action": action[:40]})
        try:
            zone = pack_zone(self.record.staff_report(user=user_of(user), report_id=report_id)["pack"]) \
                if text(request.form, "new_due") else None
            body = self.validated(StaffActionIn, action_body(request.form, zone))
            files = read_media(request, settings.max_upload_bytes())
            self.act(user, report_id, action, body, files)
        except ApiError as refused:
            if refused.code in ("NOT_FOUND", "UNAUTHORIZED", "SERVICE_UNAVAILABLE"):
                raise
            return self.report_again(request, page, user, report_id, error=refused, failed=action)
        return page.redirect(f"/staff/reports/{quote(report_id)}?done={action}")

    @http("GET", "/staff/reports/<string:report_id>/media/<string:sha256>")
    @page
    def staff_media(self, request, page, report_id, sha256):
        """A photo or video of a report the user may see: the reporter's media and the result's photos."""
        user = self.staff_or_login(request)
        if user is None:
            raise ApiError("UNAUTHORIZED")
        view = self.record.staff_report(user=user_of(user), report_id=report_id[:64])
        result = view.get("result") or {}
        allowed = {m.get("sha256") for m in view.get("media") or []} | set(result.get("after_photos") or [])
        if sha256 not in allowed:
            raise ApiError("NOT_FOUND")
        data = self.media.read(sha256)
        kind = detect(data)
        return Response(data, content_type=kind[1] if kind else "application/octet-stream",
                        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'; sandbox"})

    # ---- the unit's dashboard ------------------------------------------------------------------------------
    @http("GET", "/staff/dashboard")
    @page
    def staff_dashboard(self, request, page):
        """A unit for a period: received, on time, late by step, open and overdue now, satisfaction, its scorecard
        counters with the pack's criteria, the trend of the last months (chart) and its late items. A leader sees
        its own unit; the centre chooses the agency (or the whole province)."""
        user = self.staff_or_login(request)
        if user is None:
            return page.redirect(login_url(request))
        centre = user["role"] in CENTRE_ROLES
        pack_id = user.get("pack") or (request.args.get("pack") or "").strip() or (list_packs() or [""])[0]
        pack = get_pack(self.known_pack(pack_id))
        tz, cutoff = pack.meta.get("timezone", "Asia/Ho_Chi_Minh"), (pack.meta.get("reports") or {}).get("cutoff_day")
        label = (request.args.get("period") or "").strip()[:20] or \
            periods.containing("month", clock.now(), tz, cutoff).label
        agency = user.get("agency") if not centre else (request.args.get("agency") or "").strip() or None
        if agency is not None and agency not in pack.agencies:
            raise ApiError("VALIDATION_FAILED", fields={"agency": "no such agency in this pack"})
        cards, counted_at = self.recent_scorecards(user, pack_id, label)
        period = periods.parse(cards["period"], tz, cutoff)
        months = month_labels(period, tz, cutoff, TREND_MONTHS)
        trend = self.trend(user, pack_id, months, agency, known={cards["period"]: cards})
        card = unit_card(cards, agency)
        late = [item for item in cards.get("late") or [] if agency is None or item.get("agency") == agency]
        query = {"sort": "due", "limit": OPEN_LISTED} | ({"pack": pack_id} if centre else {}) | \
            ({"agency": agency} if agency else {})
        # the open reports as listed at most a minute ago too (with the counts; the queue /staff/ is live): for a
        # busy unit they are read from behind its closed ones (by_next_due), a second of intake's at 100,000 reports
        staff = user_of(user)
        listed, listed_at = self.recent.get(
            ("open", tuple(sorted(staff.items())), tuple(sorted(query.items()))),
            lambda: self.record.staff_list(user=staff, query=query)["reports"])
        counted_at = min(counted_at, listed_at)
        now = clock.now()
        open_now = [queue_item(r, now) for r in listed if r["state"] not in TERMINAL]
        findings = [dict(c, flagged=agency in c["agencies"] if agency else bool(c["agencies"]))
                    for c in cards.get("criteria") or []]
        return page.render(
            "staff/dashboard.html", user=user, pack=pack, cards=cards, card=card, agency=agency, centre=centre,
            agencies=agencies_of(pack_id), packs=list_packs() if centre and not user.get("pack") else [],
            late=late, late_by_step=Counter(item.get("step") for item in late).most_common(),
            open_now=open_now, overdue=[r for r in open_now if r["late_now"]], open_capped=len(listed) >= OPEN_LISTED,
            findings=findings, counters=COUNTER_LABELS, rates=RATE_LABELS, finding_labels=FINDING_LABELS,
            steps=STEP_LABELS, trend=trend, trend_json=json.dumps(trend, ensure_ascii=False),
            recent_months=month_labels(periods.containing("month", clock.now(), tz, cutoff), tz, cutoff, 12)[::-1],
            period_label=cards["period"], counted_at=counted_at, period_days=(local_day(period.start, tz), local_day(period.end - timedelta(
                seconds=1), tz)))

    def recent_scorecards(self, user: dict, pack_id: str, label: str):
        """(scorecards_seen's answer, when counted): counted at most a minute ago (recent.py), for every user who
        sees the same of them (the same pack, centre or not, agency)."""
        seen_as = (user.get("pack"), user["role"] in CENTRE_ROLES, user.get("agency"))
        return self.recent.get(("scorecards", seen_as, pack_id, label),
                               lambda: self.scorecards_seen(user, pack_id, label))

    def trend(self, user: dict, pack_id: str, months: list[str], agency: str | None, known: dict) -> dict:
        """The unit's counters month by month: the scorecards of each month, asked at once (each call bounded by
        the RPC timeout)."""
        asked = [m for m in months if m not in known]
        pool = eventlet.GreenPool(len(asked) or 1)
        found = dict(known)
        found.update(zip(asked, pool.imap(lambda month: self.recent_scorecards(user, pack_id, month)[0], asked)))
        rows = [unit_card(found[m], agency) for m in months]
        return {"labels": months,
                "received": [r.get("received", 0) for r in rows],
                "on_time": [r.get("on_time", 0) for r in rows],
                "late": [r.get("late_count", 0) for r in rows],
                "resolved": [r.get("resolved", 0) for r in rows],
                "satisfied": [round(100 * r["satisfied_rate"], 1) if r.get("rated_count") else None for r in rows]}
