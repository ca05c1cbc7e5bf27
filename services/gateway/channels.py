"""Reports entered for callers by operators, and the Zalo Official Account webhook (entrypoints of the gateway)."""
from __future__ import annotations

import logging

from pydantic import ValidationError

from paht import clock, settings
from paht.errors import ApiError
from paht.remote_media import fetch_media
from paht.roles import CENTRE_ROLES
from paht.rules import list_packs
from paht.web import guarded, http, json_response, parse_json, validation_fields

from . import zalo
from .channel_schemas import OperatorReportIn, ZaloEvent, not_in_future
from .dependencies import STORAGE_ERRORS
from .staff import authenticate
from .uploads import parse_part, read_media

log = logging.getLogger(__name__)


class ChannelsApi:
    # ---- reports an operator enters for a caller (hotline, e-mail, Zalo, Facebook) ---------------------------------
    @http("POST", "/api/v1/staff/reports")
    @guarded
    def enter_report(self, request):
        """An operator (or admin) enters a caller's report — JSON, or multipart with the `report` part and `media`
        parts. It is stored like any submission (the same verification), with the operator as who entered it."""
        user = authenticate(self.store, request)
        if user["role"] not in CENTRE_ROLES:
            raise ApiError("FORBIDDEN")
        entered = parse_part(request, OperatorReportIn)
        if user.get("pack") not in (None, entered.pack):
            raise ApiError("FORBIDDEN", fields={"pack": "an operator of one pack enters reports for it only"})
        future = not_in_future(entered.received_at, clock.now())
        if future:
            raise ApiError("VALIDATION_FAILED", fields=future)
        files = read_media(request, settings.max_upload_bytes())
        report_in = entered.report({"user": user["_id"], "role": user["role"], "name": user.get("name")})
        answer = self.create_report(report_in, files, request.headers.get("Idempotency-Key", ""))
        return json_response(answer, 201)

    # ---- the Zalo Official Account webhook ------------------------------------------------------------------------
    @http("POST", "/api/v1/channels/zalo")
    @guarded
    def zalo_webhook(self, request):
        """A Zalo OA event, signed by Zalo (`X-ZEvent-Signature: mac=…`): a citizen's text, photo or location,
        gathered per sender into one report (services/intake/zalo.py). Answered at once; the photos are fetched
        and the report stored after the answer."""
        secret, pack = settings.zalo_oa_secret(), settings.zalo_pack()
        if secret is None or pack is None or pack not in list_packs():
            raise ApiError("INVALID_SIGNATURE", detail="the Zalo webhook is not configured on this system")
        if (request.content_length or 0) > settings.MAX_FORM_FIELD_BYTES:
            raise ApiError("PAYLOAD_TOO_LARGE", detail=f"JSON over {settings.MAX_FORM_FIELD_BYTES} bytes")
        raw = request.get_data()
        try:
            body = parse_json(raw)
        except ApiError:   # a body that is no JSON cannot carry a signature we can check
            body = None
        if not isinstance(body, dict) or not zalo.signature_ok(request.headers.get(zalo.SIGNATURE_HEADER, ""),
                                                               body.get("app_id"), body.get("timestamp"), raw, secret):
            raise ApiError("INVALID_SIGNATURE")
        try:
            event = ZaloEvent.model_validate(body)
        except ValidationError as exc:   # another kind of event (follow, seen, …) or one we cannot read
            return json_response({"status": "ignored", "event_name": str(body.get("event_name"))[:40],
                                  "fields": validation_fields(exc)})
        return json_response(self.zalo_message(event, pack))

    def zalo_message(self, event: ZaloEvent, pack: str) -> dict:
        found = zalo.pieces(event)
        if found.empty():
            return {"status": "ignored", "event_name": event.event_name}
        drafts = zalo.ZaloDrafts(self.store.database)
        now = clock.now()
        try:
            if not drafts.claim_message(event.message.msg_id, now):
                return {"status": "duplicate"}
            try:
                draft = drafts.add(event.sender.id, event.message.msg_id, found, now)
            except STORAGE_ERRORS:
                drafts.release_message(event.message.msg_id)
                raise
            taken = zalo.complete(draft) and drafts.take(draft)
        except STORAGE_ERRORS:   # Zalo sends it again when not answered 200
            log.warning("zalo message %s not kept: storage unavailable", event.message.msg_id, exc_info=True)
            raise ApiError("SERVICE_UNAVAILABLE", retry_after=5) from None
        if taken:
            self.background.spawn(self.report_zalo_draft, draft, pack)
            return {"status": "reporting"}
        return {"status": "gathering", "has": [name for name, key in (("text", "texts"), ("photo", "images"),
                                                                       ("location", "location")) if draft.get(key)]}

    def report_zalo_draft(self, draft: dict, pack: str) -> None:
        """A complete draft becomes a report: its photos fetched from Zalo (the allowed hosts only, under the
        upload checks; a photo that cannot be fetched is left out and logged), then stored as any submission."""
        try:
            files = []
            for url in draft["images"][:settings.MAX_MEDIA_PARTS]:
                try:
                    files.append(fetch_media(url))
                except ApiError as exc:
                    log.warning("zalo photo of draft %s left out: %s %s", draft["_id"], exc.code, exc.fields)
            answer = self.create_report(zalo.draft_report(draft, pack), files,
                                        idempotency_key=f"zalo:{draft['messages'][0]}")
            log.info("zalo messages %s reported as %s", draft["messages"], answer["id"])
        except Exception:   # a managed thread that raises kills the container: the log keeps what was lost
            log.exception("zalo draft %s (messages %s) not reported", draft["_id"], draft.get("messages"))
