"""Interface (a): citizens and organisations — the published results (/), a report's public page (/reports/{id}),
the report form (/submit) and the reporter's own page (/track, the id and token POSTed, never in a URL). Each
calls what the JSON API calls; a refusal is shown with the API's message, field by field."""
from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode
from pydantic import ValidationError
from werkzeug.wrappers import Response

from paht import proxies, settings
from paht.errors import ApiError
from paht.geo import boundary_path
from paht.rules import get_pack, list_packs
from paht.schemas import InteractionIn, RatingIn, ReportIn, SupplementIn
from paht.web import http, validation_fields

from ..schemas import FeedQuery
from ..submissions import reporter_key
from ..uploads import read_media
from .web import page, signed_in

CANCELLABLE = ("submitted", "needs_supplement", "accepted", "routing_unresolved", "dispatched")


def packs() -> list[dict]:
    """Every province's pack for the filters and the form: id, province, categories (code → name)."""
    found = []
    for pack_id in list_packs():
        pack = get_pack(pack_id)
        found.append({"id": pack_id, "province": pack.meta.get("province") or pack_id,
                      "categories": {code: (c or {}).get("name", code) for code, c in pack.categories.items()},
                      "rating_levels": rating_levels(pack)})
    return found


def rating_levels(pack) -> list[tuple[str, str]]:
    """The pack's rating scale: (id, label) in its order."""
    return [(level["id"], level.get("label", level["id"])) for level in pack.rating_levels()]


def field(form, name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def submission(form) -> dict:
    """The form's fields (the API's names) as the `report` part of `POST /api/v1/reports`."""
    lat, lon, address = field(form, "lat"), field(form, "lon"), field(form, "address")
    location = None
    if lat or lon or address:
        location = {"lat": number(lat), "lon": number(lon), "address": address,
                    "source": "manual" if form.get("location_source") == "manual" else "gps"}
    reporter = {name: field(form, name) for name in ("name", "phone", "email", "address_home")}
    reporter = {("address" if k == "address_home" else k): v for k, v in reporter.items() if v}
    if form.get("share_contact"):
        reporter["share_contact"] = True
    report = {"pack": field(form, "pack") or "", "channel": "portal", "reporter": reporter,
              "description": form.get("description") or "", "location": location,
              "urgent": bool(form.get("urgent")), "keep_private": bool(form.get("keep_private"))}
    if field(form, "category"):
        report["category"] = field(form, "category")
    return report


def number(text: str | None):
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text   # the model names it


class PublicPages:
    def signed_in(self, request) -> dict | None:
        """The staff user of the session cookie, if any (the header shows their links)."""
        return signed_in(self.store, request)

    # ---- the published results -------------------------------------------------------------------------------
    @http("GET", "/")
    @page
    def home(self, request, page):
        """The province's published results: a map and a list, filtered, a page at a time."""
        query = self.validated(FeedQuery, request.args.to_dict())
        since, until = self.feed_days(query)
        results = self.publishing.feed(query.pack, query.limit, query.ward, query.category, since, until,
                                       query.box(), query.cursor)
        if "error" in results:
            raise ApiError(results["error"]["code"], fields=results["error"].get("fields"))
        asked = {k: v for k, v in request.args.items() if k in ("pack", "ward", "category", "from", "to") and v}
        categories = {code: name for pack in packs() if query.pack in (None, pack["id"])
                      for code, name in pack["categories"].items()}
        return page.render("home.html", user=self.signed_in(request), packs=packs(), query=query,
                           categories=categories, results=results["results"], next=results.get("next"),
                           next_url="/?" + urlencode(asked | {"cursor": results["next"]}) if results.get("next")
                           else None, points_url="/map/published.json?" + urlencode(asked),
                           wards_url=f"/map/wards/{query.pack}.geojson" if query.pack else None,
                           tiles=settings.tile_url())

    def feed_days(self, query: FeedQuery):
        from ..listings import day_bounds
        return day_bounds(query)

    @http("GET", "/map/published.json")
    @page
    def map_points(self, request, page):
        """The map's points: [[id, lat, lon, category], …] of the published results the filters select."""
        query = self.validated(FeedQuery, request.args.to_dict())
        since, until = self.feed_days(query)
        points = self.publishing.map_points(query.pack, query.ward, query.category, since, until)
        if isinstance(points, dict) and "error" in points:
            raise ApiError(points["error"]["code"], fields=points["error"].get("fields"))
        return Response(json.dumps(points), content_type="application/json; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=60"})

    @http("GET", "/map/wards/<string:pack_id>.geojson")
    @page
    def ward_polygons(self, request, page, pack_id):
        """The pack's ward polygons (its boundary.file, with their licence beside), drawn under the markers."""
        try:
            pack = get_pack(pack_id)
        except KeyError:
            raise ApiError("UNKNOWN_PACK", fields={"pack": pack_id[:64]}) from None
        path = boundary_path(pack.path, pack.meta)
        if path is None or not path.is_file():
            raise ApiError("NOT_FOUND")
        return Response(path.read_bytes(), content_type="application/geo+json",
                        headers={"Cache-Control": "public, max-age=86400"})

    @http("GET", "/reports/<string:report_id>")
    @page
    def report_page(self, request, page, report_id):
        """The public view: state, timeline, deadlines with late marks, the result and its photos once published,
        the messages with their replies; never the reporter's data."""
        record = self.record.public_report(report_id=report_id)
        return page.render("report.html", user=self.signed_in(request), view=record["view"],
                           photos=record["result_photos"], owner=False)

    # ---- the report form -------------------------------------------------------------------------------------
    @http("GET", "/submit")
    @page
    def submit_form(self, request, page):
        return self.submit_again(request, page, {}, {})

    def submit_again(self, request, page, form: dict, errors: dict, status: int = 200):
        """The form (again, with what was given and why it was refused, field by field)."""
        categories: dict[str, dict] = {}   # code → its name and the packs that have it (the form narrows by pack)
        for pack in packs():
            for code, name in pack["categories"].items():
                categories.setdefault(code, {"name": name, "packs": []})["packs"].append(pack["id"])
        return page.render("submit.html", status=status, user=self.signed_in(request), packs=packs(),
                           categories=categories, form=form, errors=errors, tiles=settings.tile_url(),
                           idempotency_key=secrets.token_urlsafe(16))

    @http("POST", "/submit")
    @page
    def submit_page(self, request, page):
        """The form sent (multipart, with its photos): the report id and the tracking token, shown once."""
        self.within_rate(proxies.of_request(request))
        form = request.form
        try:
            report_in = ReportIn.model_validate(submission(form))
        except ValidationError as exc:
            return self.submit_again(request, page, form.to_dict(), form_errors(validation_fields(exc)), 422)
        self.within_rate(reporter_key(report_in))
        try:
            files = read_media(request, settings.max_upload_bytes())
        except ApiError as refused:   # a file the checks refuse: the form again with why, what was typed kept
            if not any(name.startswith("media") for name in refused.fields or {}):
                raise
            return self.submit_again(request, page, form.to_dict(), {"media": file_refusal(refused, page.lang)},
                                     refused.status)
        answer = self.create_report(report_in, files, form.get("idempotency_key", "")[:200])
        return page.render("submitted.html", user=self.signed_in(request), answer=answer)

    # ---- the reporter's own page -----------------------------------------------------------------------------
    @http("GET", "/track")
    @page
    def track_form(self, request, page):
        return page.render("track.html", user=self.signed_in(request), report_id=request.args.get("id", "")[:64])

    @http("POST", "/track")
    @page
    def track_page(self, request, page):
        """The report as its reporter sees it, with what they may do now."""
        report_id, token = self.tracked(request)
        return self.tracked_page(request, page, report_id, token)

    def tracked(self, request) -> tuple[str, str]:
        report_id = (request.form.get("id") or "").strip()[:64]
        token = (request.form.get("tracking_token") or "").strip()[:100]
        if not report_id or not token:
            raise ApiError("INVALID_TOKEN")
        return report_id, token

    def tracked_page(self, request, page, report_id: str, token: str, done: str | None = None,
                     error: ApiError | None = None):
        record = self.record.public_report(report_id=report_id, tracking_token=token)
        view = record["view"]
        pack = get_pack(view["pack"])
        return page.render("tracked.html", status=error.status if error else 200, user=self.signed_in(request),
                           view=view, photos=record["result_photos"], token=token, done=done, error=error,
                           owner=True, cancellable=view["state"] in CANCELLABLE and
                           (pack.meta.get("cancellation") or {}).get("allowed", True),
                           levels=rating_levels(pack))

    @http("POST", "/track/<string:action>")
    @page
    def track_action(self, request, page, action):
        """supplement | cancel | rating | interactions: as the API's reporter actions, then the reporter's page."""
        report_id, token = self.tracked(request)
        try:
            if action == "supplement":
                self.page_supplement(request, report_id, token)
            elif action == "cancel":
                self.record.reporter_act(report_id=report_id, tracking_token=token, action="cancel")
            elif action == "rating":
                rating = self.validated(RatingIn, {"level": request.form.get("level", ""),
                                                   "comment": request.form.get("comment") or None})
                snapshot = self.record.reporter_snapshot(report_id=report_id, tracking_token=token)
                self.apply_answer(self.rating.rate(snapshot, rating.level, rating.comment))
            elif action == "interactions":
                asked = self.validated(InteractionIn, {"message": request.form.get("message", "")})
                snapshot = self.record.reporter_snapshot(report_id=report_id, tracking_token=token)
                self.apply_answer(self.rating.interact(snapshot, asked.message))
            else:
                raise ApiError("UNKNOWN_ACTION", fields={"action": action[:40]})
        except ApiError as refused:
            if refused.code in ("INVALID_TOKEN", "NOT_FOUND"):
                raise
            return self.tracked_page(request, page, report_id, token, error=refused)
        return self.tracked_page(request, page, report_id, token, done=action)

    def page_supplement(self, request, report_id: str, token: str) -> None:
        form = request.form
        given = {k: v for k, v in {"description": field(form, "description")}.items() if v}
        if field(form, "lat") or field(form, "lon") or field(form, "address"):
            given["location"] = {"lat": number(field(form, "lat")), "lon": number(field(form, "lon")),
                                 "address": field(form, "address"), "source": "manual"}
        reporter = {name: field(form, name) for name in ("name", "phone", "email") if field(form, name)}
        if reporter:
            given["reporter"] = reporter
        supplement = self.validated(SupplementIn, given)
        state = self.record.public_report(report_id=report_id, tracking_token=token)["view"]["state"]
        if state != "needs_supplement":
            raise ApiError("ACTION_NOT_ALLOWED", detail=f"state {state}")
        media = self.put_media(read_media(request, settings.max_upload_bytes()), supplement.media_meta)
        from ..submissions import account_verified, without_credentials
        self.record.reporter_act(report_id=report_id, tracking_token=token, action="supplement",
                                 supplement=without_credentials(supplement, exclude_unset=True),
                                 media=[m.model_dump(mode="json") for m in media],
                                 account_verified=supplement.reporter is not None and
                                 account_verified(supplement.reporter))


def file_refusal(refused: ApiError, lang: str) -> str:
    """Why an uploaded file was refused, as the API says it (message in the reader's language, the file and the
    limit, the code)."""
    message = refused.message if lang == "vi" else refused.message_en
    which = ", ".join(str(why) for why in (refused.fields or {}).values())
    return f"{message} {which}{f' — {refused.detail}' if refused.detail else ''} ({refused.code})"


def form_errors(fields: dict) -> dict:
    """The model's field paths as the form's field names (reporter.phone → phone, location.lat → lat)."""
    names = {"reporter.name": "name", "reporter.phone": "phone", "reporter.email": "email",
             "reporter.address": "address_home", "location.lat": "lat", "location.lon": "lon",
             "location.address": "address", "location": "lat"}
    return {names.get(path, path.split(".")[0]): why for path, why in fields.items()}

