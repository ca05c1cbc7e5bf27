"""The public feed and the staff's report lists (entrypoints of the gateway service)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Response

from paht import clock
from paht.errors import ApiError
from paht.rules import get_pack
from paht.web import guarded, http, json_response
from paht.worktime import calendar_for

from paht.schemas import StaffQuery

from . import exports
from .record import user_of
from .schemas import FeedQuery
from .staff import authenticate

PROVINCE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")   # a feed over every pack: the country's one time zone


def day_bounds(query: FeedQuery) -> tuple[str | None, str | None]:
    """`from`/`to` as the [start, end) instants of those days in the pack's time zone."""
    try:
        tz = calendar_for(get_pack(query.pack).meta).tz if query.pack else PROVINCE_TZ
    except KeyError:
        tz = PROVINCE_TZ
    start = datetime.combine(query.date_from, time(), tz).isoformat() if query.date_from else None
    end = datetime.combine(query.date_to + timedelta(days=1), time(), tz).isoformat() if query.date_to else None
    return start, end


class ListingsApi:
    @http("GET", "/api/v1/feed")
    @guarded
    def feed(self, request):
        """The public feed of published results (never private ones, never reporter data), newest first: `limit`
        per page and `next`, the `cursor` of the following page; filters `pack`, `ward` (code), `category`,
        `from`/`to` (publication days) and `bbox=min_lon,min_lat,max_lon,max_lat` on each result's public location
        (rounded where the pack hides the reporter's place: services/publishing/letters.py `public_location`)."""
        query = self.validated(FeedQuery, request.args.to_dict())
        since, until = day_bounds(query)
        page = self.publishing.feed(query.pack, query.limit, query.ward, query.category, since, until, query.box(),
                                    query.cursor)
        if "error" in page:
            raise ApiError(page["error"]["code"], fields=page["error"].get("fields"))
        return json_response(page)

    @http("GET", "/api/v1/staff/reports")
    @guarded
    def staff_reports(self, request):
        """The reports a staff account may see, filtered; `sort=due|-due|submitted|-submitted` (due: the current
        deadline); `format=csv|xlsx` exports the same list (without an explicit `limit`, all of it)."""
        user = authenticate(self.store, request)
        query = self.validated(StaffQuery, request.args.to_dict())
        found = self.record.staff_list(user=user_of(user), query=query.model_dump(mode="json",
                                                                                   exclude_unset=True))
        if query.format != "json":
            return exported(found, query.format)
        return json_response({"reports": found["reports"], "count": len(found["reports"])})


def exported(found: dict, fmt: str) -> Response:
    """A staff list the record gave for an export ({"columns", "rows"}) as a CSV or XLSX download."""
    content_type, write = exports.EXPORTS[fmt]
    filename = f"phan-anh-{clock.now():%Y%m%d-%H%M}.{fmt}"
    return Response(write(found["columns"], found["rows"]), content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
