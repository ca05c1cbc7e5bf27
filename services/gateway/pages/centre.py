"""Interface (d): the province's monitoring centre (IOC) — `/centre/`, the operator's console. What waits for the
centre (reports held for its checks — identity, evidence — or for a designation, approved results waiting for its
review, dead letters) and the province's statistics for a chosen pack and period: by agency (rating's scorecards),
by category and ward (intake's `report_statistics`, counts only), the ward map shaded by count, the month trend
and the on-time and satisfaction rates, and the periodic reports to download. Operators and admins only, as the
JSON API's centre endpoints; every list is the record's, with the signed-in user's tenancy."""
from __future__ import annotations

import base64
import math
from datetime import timedelta
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from paht import clock, periods
from paht.errors import ApiError
from paht.roles import CENTRE_ROLES
from paht.rules import get_pack, list_packs
from paht.web import http

from ..record import user_of
from ..schemas import ScorecardQuery
from .public import packs as pack_choices
from .recent import RecentCounts
from .web import page, signed_in

LOGIN = "/staff/login?next=/centre/"
TREND_MONTHS = 12
HELD_CHECKS = ("identity_check", "operator_check")   # the operator's own steps while a report waits in `submitted`
SHADES = 5                                            # the ward map's classes above zero


def period_bounds(pack, label: str) -> periods.Period:
    """The period as rating counts it (the pack's time zone and cut-off day)."""
    tz = pack.meta.get("timezone", "Asia/Ho_Chi_Minh")
    try:
        return periods.parse(label, tz, (pack.meta.get("reports") or {}).get("cutoff_day"))
    except periods.BadPeriod as exc:
        raise ApiError("VALIDATION_FAILED", fields={"period": str(exc)}) from None


def period_choices(pack, chosen: str) -> list[dict]:
    """The periods an operator picks from: the last 12 months, 4 quarters and 2 years (and the chosen one)."""
    tz = pack.meta.get("timezone", "Asia/Ho_Chi_Minh")
    cutoff = (pack.meta.get("reports") or {}).get("cutoff_day")
    now = clock.now()
    found = []
    for kind, count in (("month", 12), ("quarter", 4), ("year", 2)):
        current = periods.containing(kind, now, tz, cutoff)
        for _ in range(count):
            found.append(current)
            current = periods.previous(current, tz, cutoff)
    choices = [{"label": p.label, "kind": p.kind, "parts": p.label.split("-")} for p in found]
    if chosen not in {c["label"] for c in choices}:
        choices.insert(0, {"label": chosen, "kind": "other", "parts": [chosen]})
    return choices


def current_month(pack) -> str:
    tz = pack.meta.get("timezone", "Asia/Ho_Chi_Minh")
    return periods.containing("month", clock.now(), tz, (pack.meta.get("reports") or {}).get("cutoff_day")).label


def held_for(view: dict) -> list[dict]:
    """What a report in `submitted` waits for at the centre: its pending checks (rule, article, message), and the
    identity check when its deadline is open."""
    waits = [{"name": c["name"], "message": c.get("message"), "article": c.get("article"), "rule": c.get("rule")}
             for c in view.get("pending_checks") or []]
    for deadline in view.get("deadlines") or []:
        if deadline.get("step") == "identity_check" and not deadline.get("closed_at"):
            waits.append({"name": "identity", "message": None, "article": deadline.get("article"),
                          "rule": deadline.get("rule")})
    return waits


def open_step(view: dict, steps) -> dict | None:
    """The report's open deadline of one of `steps`, if any."""
    return next((d for d in view.get("deadlines") or [] if d.get("step") in steps and not d.get("closed_at")), None)


def rate(part, whole):
    return round(part / whole, 4) if whole else None


def shade_classes(highest: int) -> list[dict]:
    """The ward map's count classes: 0, then up to SHADES even steps to the highest count."""
    classes = [{"shade": 0, "low": 0, "high": 0}]
    if highest <= 0:
        return classes
    step = max(1, math.ceil(highest / SHADES))
    low = 1
    while low <= highest:
        high = min(low + step - 1, highest)
        classes.append({"shade": len(classes), "low": low, "high": high})
        low = high + 1
    return classes


def agency_rows(cards: dict) -> list[dict]:
    """The scorecards' agencies with the rates the console shows: on time = processing steps closed in time out of
    those closed in time or missed in the period; satisfied = the rating's own rate."""
    rows = []
    for agency in cards.get("agencies") or []:
        counters = agency["counters"]
        rows.append({"agency": agency["agency"], "name": agency.get("name") or agency["agency"],
                     "counters": counters,
                     "on_time_rate": rate(counters.get("on_time", 0),
                                          counters.get("on_time", 0) + counters.get("late_count", 0)),
                     "satisfied_rate": counters.get("satisfied_rate") if counters.get("rated_count") else None,
                     "findings": agency.get("report_to_province") or [],
                     "not_excellent": agency.get("not_eligible_excellent") or []})
    return rows


class CentrePages:
    recent = RecentCounts()   # the console's counts, counted at most a minute ago (recent.py)

    def centre_console_user(self, request) -> dict | None:
        """The signed-in centre account (None: nobody is signed in); another role is refused as the API refuses
        it (FORBIDDEN)."""
        user = signed_in(self.store, request)
        if user is not None and user["role"] not in CENTRE_ROLES:
            raise ApiError("FORBIDDEN", detail="the centre's console is for the centre's operators and admins")
        return user

    def centre_pack(self, user: dict, asked: str | None) -> str:
        """The pack the console shows: the account's own, or (an account of every pack) the one asked for."""
        if user.get("pack"):
            if asked not in (None, "", user["pack"]):
                raise ApiError("NOT_FOUND")
            return user["pack"]
        known = list_packs()
        if asked in (None, ""):
            return known[0]
        if asked not in known:
            raise ApiError("UNKNOWN_PACK", fields={"pack": asked[:64]})
        return asked

    @http("GET", "/centre/")
    @page
    def centre_console(self, request, page):
        """The operator's console: what waits for the centre, and the province's statistics for a period."""
        user = self.centre_console_user(request)
        if user is None:
            return page.redirect(LOGIN)
        query = self.validated(ScorecardQuery, {k: v for k, v in request.args.items() if k in ("pack", "period")})
        pack_id = self.centre_pack(user, query.pack)
        pack = get_pack(pack_id)
        label = query.period or current_month(pack)
        period = period_bounds(pack, label)
        staff = user_of(user)

        def listed(state: str) -> list[dict]:
            return self.record.staff_list(user=staff, query={"state": state, "pack": pack_id, "sort": "due",
                                                              "limit": 200})["reports"]
        held = [dict(view, waits=held_for(view)) for view in listed("submitted")]
        held = [view for view in held if view["waits"]]
        unresolved = listed("routing_unresolved")
        review = listed("approved")
        letters = self.intake_admin("dead_letters", status="open", limit=50)

        # counted at most a minute ago (recent.py; the page says when): the scorecards as every operator of the
        # pack sees them, the statistics as this user may
        cards, counted_at = self.recent.get(("centre", pack_id, label), lambda: self.rating.scorecards(pack_id, label),
                                            keep=lambda answer: "error" not in answer)
        cards_error = cards["error"] if "error" in cards else None
        counts, stats_counted_at = self.recent.get(
            ("statistics", tuple(sorted(staff.items())), pack_id, period.start, period.end, TREND_MONTHS),
            lambda: self.record.report_statistics(user=staff, pack=pack_id, since=period.start, until=period.end,
                                                  trend_months=TREND_MONTHS))
        categories = {code: (c or {}).get("name", code) for code, c in pack.categories.items()}
        agencies = [] if cards_error else agency_rows(cards)
        wards = {w["code"]: w["count"] for w in counts["by_ward"]}
        classes = shade_classes(max(wards.values(), default=0))
        months = counts["months"]
        month_labels = [f"{m['month'][5:7]}/{m['month'][:4]}" for m in months]
        charts = {
            "trend": {"type": "bar", "labels": month_labels,
                      "series": [{"key": "received", "data": [m["received"] for m in months]},
                                 {"key": "resolved", "data": [m["resolved"] for m in months]}]},
            "rates": {"type": "line", "percent": True, "labels": month_labels,
                      "series": [{"key": "on_time", "data": [m["on_time_rate"] for m in months]},
                                 {"key": "satisfied", "data": [m["satisfied_rate"] for m in months]}]},
            "agencies": {"type": "bar", "horizontal": True, "stacked": True,
                         "labels": [a["name"] for a in agencies],
                         "series": [{"key": "on_time", "data": [a["counters"].get("on_time", 0) for a in agencies]},
                                    {"key": "late", "data": [a["counters"].get("late_count", 0)
                                                             for a in agencies]}]},
            "categories": {"type": "bar", "horizontal": True,
                           "labels": [categories.get(c["category"], c["category"]) if c["category"] else ""
                                      for c in counts["by_category"]],
                           "series": [{"key": "received", "data": [c["count"] for c in counts["by_category"]]}]},
        }
        reports = self.rating.periodic_reports(pack_id)
        return page.render(
            "centre/console.html", user=user, pack=pack_id, province=pack.meta.get("province") or pack_id,
            packs=pack_choices() if not user.get("pack") else [], periods=period_choices(pack, label),
            period=label, period_dates=(period.start.strftime("%d/%m/%Y"),
                                        (period.end - timedelta(seconds=1)).strftime("%d/%m/%Y")),
            month_labels=month_labels,
            held=held, unresolved=unresolved, review=review,
            review_required=bool((pack.meta.get("publication") or {}).get("operator_review")),
            letters=letters, cards=None if cards_error else cards, cards_error=cards_error, agencies=agencies,
            counts=counts, totals=counts["totals"], counted_at=min(counted_at, stats_counted_at), categories=categories, charts=charts, ward_counts=wards,
            shades=classes, wards_url=f"/map/wards/{pack_id}.geojson", periodic=reports,
            done=request.args.get("done") if request.args.get("done") in ("replay", "drop") else None,
            here="/centre/?" + urlencode({"pack": pack_id, "period": label}))

    @http("POST", "/centre/dead-letters/<string:letter_id>/<string:verb>")
    @page
    def centre_dead_letter(self, request, page, letter_id, verb):
        """Replay or drop a dead letter (as the API's /staff/dead-letters/{id}/{verb}), then the console again."""
        user = self.centre_console_user(request)
        if user is None:
            return page.redirect(LOGIN)
        if verb not in ("replay", "drop"):
            raise ApiError("UNKNOWN_ACTION", fields={"action": verb[:40]})
        self.found_letter(self.intake_admin("dead_letter", letter_id=letter_id[:100]))
        if self.intake_admin(f"{verb}_dead_letter", letter_id=letter_id[:100]) is None:
            raise ApiError("ACTION_NOT_ALLOWED", detail="already settled")
        back = {k: v for k, v in request.form.items() if k in ("pack", "period") and v}
        return page.redirect("/centre/?" + urlencode(back | {"done": verb}) + "#dead-letters")

    @http("GET", "/centre/periodic/<string:name>")
    @page
    def centre_periodic_file(self, request, page, name):
        """A periodic report as the pack's regulation makes it, as XLSX or CSV (as the API's
        /staff/periodic-reports/{name})."""
        user = self.centre_console_user(request)
        if user is None:
            return page.redirect(LOGIN)
        report_id, _, fmt = name.rpartition(".")
        if fmt not in ("xlsx", "csv"):
            raise ApiError("NOT_FOUND")
        answer = self.rating.periodic_file(report_id, fmt)
        if answer is None or (user.get("pack") and answer.get("pack") != user["pack"]):
            raise ApiError("NOT_FOUND")
        filename = report_id.replace(":", "_") + "." + fmt
        return page.finish(Response(base64.b64decode(answer["data_b64"]), content_type=answer["content_type"],
                                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}))

