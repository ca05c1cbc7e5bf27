"""The public feed and the staff's report lists (entrypoints of the intake service)."""
from __future__ import annotations

from paht.web import guarded, http, json_response

from . import reports as domain
from .schemas import FeedQuery, StaffQuery
from .staff import authenticate, staff_filter


class ListingsApi:
    @http("GET", "/api/v1/feed")
    @guarded
    def feed(self, request):
        """The public feed of published results (never private ones, never reporter data)."""
        limit = self.validated(FeedQuery, request.args.to_dict()).limit
        return json_response({"results": self.publishing.feed(request.args.get("pack") or None, limit)})

    @http("GET", "/api/v1/staff/reports")
    @guarded
    def staff_reports(self, request):
        user = authenticate(self.store, request)
        query = self.validated(StaffQuery, request.args.to_dict())
        found = self.store.find(staff_filter(user, query), limit=query.limit)
        if query.late is not None:
            found = [r for r in found if domain.public_view(r)["late"] == query.late]
        return json_response({"reports": [domain.public_view(r) for r in found], "count": len(found)})
