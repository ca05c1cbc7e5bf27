"""Reports entered for callers by operators, and the Zalo Official Account webhook (entrypoints of the gateway)."""
from __future__ import annotations

import logging

from nameko.timer import timer
from pydantic import ValidationError

from paht import clock, settings
from paht.errors import ApiError
from paht.remote_media import fetch_media
from paht.roles import CENTRE_ROLES
from paht.rules import list_packs
from paht.web import guarded, http, json_response, parse_json, validation_fields

from . import zalo, zalo_answers
from .channel_schemas import OperatorReportIn, ZaloEvent, not_in_future
from .dependencies import STORAGE_ERRORS
from .staff import authenticate
from .uploads import parse_part, read_media
from .zalo_answers import ZaloAnswers

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
            try:
                pending = ZaloAnswers(self.store.database).keep(draft, pack, now)
            except STORAGE_ERRORS:   # taken, not kept: reported now or never (logged with its messages)
                log.warning("zalo draft %s not kept while it is reported", draft["_id"], exc_info=True)
                pending = {"_id": draft["messages"][0], "draft": draft, "pack": pack}
            self.background.spawn(self.report_zalo_draft, pending)
            return {"status": "reporting"}
        return {"status": "gathering", "has": [name for name, key in (("text", "texts"), ("photo", "images"),
                                                                       ("location", "location")) if draft.get(key)]}

    def report_zalo_draft(self, pending: dict) -> None:
        """A complete draft becomes a report: its photos fetched from Zalo (the allowed hosts only, under the
        upload checks; a photo that cannot be fetched is left out and logged), then stored as any submission, under
        the idempotency key of its first message. The reporter is answered in the chat with the report's id and
        tracking token, or with why it was refused for good; while the record cannot be reached the draft stays
        kept and the timer reports it again (zalo_answers.py)."""
        draft = pending["draft"]
        try:
            files = []
            for url in draft["images"][:settings.MAX_MEDIA_PARTS]:
                try:
                    files.append(fetch_media(url))
                except ApiError as exc:
                    log.warning("zalo photo of draft %s left out: %s %s", draft["_id"], exc.code, exc.fields)
            try:
                report_in = zalo.draft_report(draft, pending["pack"])
            except ValidationError as exc:   # a draft no report can be made of: refused for good, not retried
                raise ApiError("VALIDATION_FAILED", fields=validation_fields(exc)) from None
            answer = self.create_report(report_in, files, idempotency_key=f"zalo:{draft['messages'][0]}")
            log.info("zalo messages %s reported as %s", draft["messages"], answer["id"])
            text = zalo_answers.reply_text(answer, settings.public_url())
        except ApiError as refused:
            if refused.code == "SERVICE_UNAVAILABLE":
                log.warning("zalo draft %s not reported now (%s): reported again later", draft["_id"], refused.code)
                return
            log.info("zalo messages %s refused: %s", draft["messages"], refused.code)
            text = zalo_answers.refusal_text(refused)
        except Exception:   # a managed thread that raises kills the container: kept, the timer tries again
            log.exception("zalo draft %s (messages %s) not reported now", draft["_id"], draft.get("messages"))
            return
        try:
            answers = ZaloAnswers(self.store.database)
            self.answer_in_zalo(answers, f"reply:{pending['_id']}", draft["sender"], text)
            answers.done(pending)
        except STORAGE_ERRORS:   # still kept: reported again (the same report, by its key) and answered then
            log.warning("zalo draft %s: its answer not kept now", draft["_id"], exc_info=True)

    def answer_in_zalo(self, answers: ZaloAnswers, key: str, sender: str, text: str) -> None:
        """Queue the answer (once per draft) and try it now, where the Official Account's message API is set."""
        if not settings.zalo_oa_message_url():
            return
        reply = answers.queue(key, sender, text, clock.now())
        if reply is not None:
            self.try_zalo_reply(answers, reply)

    def try_zalo_reply(self, answers: ZaloAnswers, reply: dict) -> None:
        url = settings.zalo_oa_message_url()
        if not url:
            return
        try:
            zalo_answers.send_reply(url, settings.zalo_access_token(), reply["sender"], reply["text"])
        except zalo_answers.ReplyFailed as exc:   # never the text: it holds the tracking token
            log.warning("zalo answer %s not sent now (%s): tried again later", reply["_id"], exc)
            answers.failed(reply, clock.now())
            return
        answers.sent(reply)

    @timer(interval=30)
    def retry_zalo(self):
        """Drafts the record could not take (reported again) and answers Zalo did not take (sent again)."""
        now = clock.now()
        try:
            answers = ZaloAnswers(self.store.database)
            overdue, abandoned = answers.overdue(now)
            for pending in overdue:
                self.report_zalo_draft(pending)
            due, expired = answers.due(now)
        except STORAGE_ERRORS as exc:
            log.warning("zalo drafts and answers not retried now: %s", exc)
            return
        for pending in abandoned:
            log.error("zalo draft %s (messages %s) given up: not reported within %s", pending["draft"]["_id"],
                      pending["draft"].get("messages"), zalo_answers.REPLY_WINDOW)
        for key in expired:
            log.warning("zalo answer %s given up: not taken by Zalo within %s", key, zalo_answers.REPLY_WINDOW)
        for reply in due:
            self.try_zalo_reply(answers, reply)
