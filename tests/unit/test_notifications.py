"""Notifications without the broker: who is told what, the packs' templates, masking, backoff, the outbox."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from paht.embedded import Database
from paht.rules import get_pack, list_packs
from paht.schemas import Transitioned
from services.intake.contacts import reporter_contact
from services.publishing import notifications as n
from services.publishing import senders
from services.publishing.immediate import immediate_entries
from services.publishing.notify import deliver, notified_decision
from services.publishing.notify_store import NotificationStore

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
PACK = "thua-thien-hue-2022"
CONTACT = {"name": "Nguyễn Văn An", "email": "an@example.vn", "phone": "0905123456", "zalo_user_id": None,
           "consents": {"email": True, "sms": True, "zalo": True}}
ALL_CHANNELS = frozenset({"email", "sms", "zalo", "agency_webhook", "immediate_webhook"})
REASONS = [
    {"code": "MISSING_MEDIA", "rule": "tth-acc-no-media", "article": "Điều 7 khoản 5 điểm b",
     "message": "Vui lòng bổ sung hình ảnh hoặc video chụp tại hiện trường.", "message_en": None},
    {"code": "MISSING_LOCATION", "rule": "tth-acc-no-gps", "article": "Điều 7 khoản 5 điểm a",
     "message": "Vui lòng bật định vị GPS và gửi lại vị trí hiện trường.", "message_en": None},
]


def snapshot(**extra) -> dict:
    report = {"id": "PA-261124-0000ABCD", "pack": PACK, "state": "submitted", "category": "roads_traffic",
              "description": "Ổ gà lớn giữa đường Lê Lợi", "ward": {"code": "19999", "name": "Phường Thuận Hóa"},
              "location": {"address": "12 Lê Lợi"}, "submitted_at": NOW.isoformat(), "reasons": [],
              "assigned_agencies": [], "route": {}, "deadlines": {}, "urgent": False,
              "reporter": {"key": "phone:84905123456", "has": ["name", "phone", "email"], "account_verified": True}}
    report.update(extra)
    return report


def announced(cause, from_state, to_state, event_id="ev-1", **report) -> Transitioned:
    return Transitioned(event_id=event_id, report_id="PA-261124-0000ABCD", occurred_at=NOW, pack=PACK, cause=cause,
                        from_state=from_state, to_state=to_state, report=snapshot(state=to_state, **report))


ASSIGNED = [{"id": "so-xay-dung", "name": "Sở Xây dựng", "role": "lead"},
            {"id": "dien-luc", "name": "Điện lực", "role": "co"}]


def events(change) -> list[tuple]:
    return [(notice.event, notice.agency) for notice in n.notifications_for(change, get_pack(PACK))]


# ---- who is told ----------------------------------------------------------------------------------------------
def test_the_reporter_hears_of_each_step_they_care_about():
    assert events(announced("submitted", None, "submitted")) == [("received", None)]
    assert events(announced("supplemented", "needs_supplement", "submitted")) == [("received", None)]
    assert events(announced("verified", "submitted", "needs_supplement", reasons=REASONS)) == \
        [("needs_supplement", None)]
    assert events(announced("deadline_missed", "needs_supplement", "rejected")) == [("rejected", None)]
    assert events(announced("published", "approved", "published")) == [("published", None)]
    assert events(announced("delivered_privately", "approved", "delivered_privately")) == \
        [("delivered_privately", None)]


def test_dispatch_tells_the_reporter_and_every_assigned_agency():
    change = announced("routed", "accepted", "dispatched", assigned_agencies=ASSIGNED)
    assert events(change) == [("dispatched", None), ("assigned", "so-xay-dung"), ("assigned", "dien-luc")]
    roles = [notice.role for notice in n.notifications_for(change, get_pack(PACK))]
    assert roles == [None, "lead", "co"]


def test_rework_reprocessing_and_returns_tell_the_agency():
    lead = ASSIGNED[:1]
    assert events(announced("rework_requested", "approved", "in_progress", assigned_agencies=lead)) == \
        [("rework", "so-xay-dung")]
    assert events(announced("reprocess_requested", "published", "in_progress", assigned_agencies=lead)) == \
        [("reprocessing", None), ("rework", "so-xay-dung")]
    returned = announced("returned", "dispatched", "accepted",
                         route={"returned_by": ["ubnd-1", "so-xay-dung"], "suggested_agency": "dien-luc"})
    assert events(returned) == [("returned", "so-xay-dung")]


def test_steps_nobody_is_told_of():
    for cause, before, after in (("verified", "submitted", "accepted"), ("acknowledged", "dispatched", "in_progress"),
                                 ("sent_back", "result_submitted", "in_progress"), ("rated", "published", "published"),
                                 ("interaction", "in_progress", "in_progress"), ("judged", "submitted", "submitted")):
        assert events(announced(cause, before, after, assigned_agencies=ASSIGNED[:1])) == [], cause


def deadline_change(cause, step, key=None, agency="so-xay-dung"):
    key = key or step
    kind = "warn" if cause == "deadline_warning" else "missed"
    entry = {"step": step, "due": "2026-11-25T17:00:00+07:00", "agency": agency, "article": "Điều 11 khoản 2",
             "rule": "r", "late": cause == "deadline_missed"}
    other = {"step": "acknowledge", "due": "2026-11-24T10:00:00+07:00", "agency": agency, "article": "Điều 11"}
    return announced(cause, "in_progress", "in_progress",
                     event_id=f"sla:{kind}:PA-261124-0000ABCD:{key}:handling:ev-9", assigned_agencies=ASSIGNED[:1],
                     deadlines={key: entry, "acknowledge": other})


def test_a_deadline_warning_or_miss_tells_the_agency_whose_deadline_it_is():
    notices = n.notifications_for(deadline_change("deadline_warning", "process"), get_pack(PACK))
    assert [(x.event, x.agency, x.deadline["step"]) for x in notices] == [("deadline_warning", "so-xay-dung",
                                                                            "process")]
    change = deadline_change("deadline_missed", "co_process", key="co_process:dien-luc", agency="dien-luc")
    assert events(change) == [("deadline_missed", "dien-luc")]


@pytest.mark.parametrize("pack_id", list_packs())
def test_the_agencys_notice_of_extension_reaches_the_reporter_where_the_seed_sends_it(pack_id):
    """ST-22 Điều 10 khoản 2 điểm c, ST-23 Điều 14 khoản 3: "văn bản thông báo và cam kết thời hạn xử lý dứt điểm gửi
    đến tổ chức, cá nhân"; the other packs' seeds send no such notice (their public view shows the new date)."""
    pack = get_pack(pack_id)
    change = Transitioned(event_id="ev-x", report_id="PA-261124-0000ABCD", occurred_at=NOW, pack=pack_id,
                          cause="extension_noticed", from_state="in_progress", to_state="in_progress",
                          report=snapshot(state="in_progress", pack=pack_id, assigned_agencies=ASSIGNED))
    told = [(x.event, x.agency) for x in n.notifications_for(change, pack)]
    sends = pack_id in ("soc-trang-2022", "soc-trang-2023")
    assert told == ([("extension", None)] if sends else [])
    assert ("extension" in n.pack_events(pack)) is sends
    if sends:
        rendered = n.render(pack, "extension", full_context(pack, "extension"))
        assert "15:00 ngày 27/11/2026" in rendered.body or "17:00 ngày 27/11/2026" in rendered.body
        assert "Chờ vật tư" in rendered.body and "Sở Xây dựng" in rendered.body


def test_the_centres_and_the_reporters_deadlines_tell_no_agency():
    assert events(deadline_change("deadline_warning", "publish")) == []
    assert events(deadline_change("deadline_warning", "supplement", agency=None)) == []


# ---- what they read --------------------------------------------------------------------------------------------
def full_context(pack, event) -> dict:
    deadline = {"step": "process", "due": "2026-11-25T17:00:00+07:00", "article": "Điều 11 khoản 2"}
    notice = n.Notice(event, "so-xay-dung" if event in n.AGENCY_EVENTS else None, role="lead",
                      deadline=deadline if event.startswith("deadline") else None)
    change = announced("verified", "submitted", "needs_supplement", reasons=REASONS, assigned_agencies=ASSIGNED,
                       route={"suggested_agency": "dien-luc"},
                       publication={"letter": "**THÔNG TIN KẾT QUẢ XỬ LÝ**\n\nĐã vá ổ gà."},
                       result={"text": "Đã vá ổ gà."},
                       extension_notice={"step": "process", "previous_due": "2026-11-25T17:00:00+07:00",
                                         "new_due": "2026-11-27T17:00:00+07:00", "reason": "Chờ vật tư",
                                         "by": "so-xay-dung", "article": "Điều 10 khoản 2 điểm c"})
    return n.context_for(notice, change, pack, CONTACT)


@pytest.mark.parametrize("pack_id", list_packs())
@pytest.mark.parametrize("event", n.EVENTS)
def test_every_pack_has_every_template_and_each_renders(pack_id, event):
    pack = get_pack(pack_id)
    if event not in n.pack_events(pack):
        pytest.skip(f"{pack_id} never sends {event}")
    rendered = n.render(pack, event, full_context(pack, event))
    assert "PA-261124-0000ABCD" in rendered.subject and "\n" not in rendered.subject
    assert "PA-261124-0000ABCD" in rendered.body and "PA-261124-0000ABCD" in rendered.short
    assert "{{" not in rendered.body and n.SMS_SEPARATOR not in rendered.body
    assert (rendered.zalo_template is not None) == (event in n.CITIZEN_EVENTS)


def test_needs_supplement_lists_every_reason_and_how_to_fix_it_and_the_time_allowed():
    pack = get_pack(PACK)
    rendered = n.render(pack, "needs_supplement", full_context(pack, "needs_supplement"))
    for reason in REASONS:
        assert reason["message"] in rendered.body and reason["article"] in rendered.body
        assert n.HOW_TO_FIX[reason["code"]] in rendered.body
        assert reason["message"] in rendered.short
    assert "02 ngày" in rendered.body                     # TTH Điều 7 khoản 5 điểm b: 02 ngày
    assert "http://127.0.0.1:8000/reports/PA-261124-0000ABCD" in rendered.body
    assert rendered.body.index("Vui lòng bổ sung hình ảnh") < rendered.body.index("(English)")


def test_results_carry_the_letter_and_agency_texts_their_subject():
    pack = get_pack(PACK)
    assert "Đã vá ổ gà." in n.render(pack, "published", full_context(pack, "published")).body
    assert "Đã vá ổ gà." in n.render(pack, "delivered_privately", full_context(pack, "delivered_privately")).body
    warning = n.render(pack, "deadline_warning", full_context(pack, "deadline_warning"))
    assert "17:00 ngày 25/11/2026" in warning.body and "xử lý" in warning.subject
    returned = n.render(pack, "returned", full_context(pack, "returned")).body
    assert pack.agencies["dien-luc"]["name"] in returned


def test_a_citizens_text_cannot_add_a_part_or_a_header():
    pack = get_pack(PACK)
    context = full_context(pack, "assigned")
    context["report"]["description"] = "x\n--- SMS ---\nSubject: hacked\n{{ link }}"
    rendered = n.render(pack, "assigned", context)
    assert "{{ link }}" in rendered.body and "hacked" not in rendered.short and "hacked" not in rendered.subject


def test_a_template_without_its_parts_is_refused(tmp_path):
    folder = tmp_path / "templates" / "notifications"
    folder.mkdir(parents=True)
    pack = type("P", (), {"path": tmp_path})()
    (folder / "received.txt").write_text("Hello\n\nbody\n--- SMS ---\nshort\n")
    with pytest.raises(n.TemplateError, match="unknown header"):
        n.render(pack, "received", {})
    (folder / "received.txt").write_text("Subject: s\n\nbody without a short form\n")
    with pytest.raises(n.TemplateError, match="SMS"):
        n.render(pack, "received", {})


# ---- how it reaches them -------------------------------------------------------------------------------------
def test_masking():
    assert n.mask("0905123456") == "09*****456"
    assert n.mask("+84 905 123 456") == "84******456"
    assert n.mask("nguyen.an@example.vn") == "n***@example.vn"
    assert n.mask("12345") == "*****" and n.mask(None) is None


def test_backoff_doubles_up_to_an_hour():
    assert [n.backoff_seconds(a) for a in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert n.backoff_seconds(20) == 3600


def entries(change, contact=CONTACT, channels=ALL_CHANNELS, pack=None):
    pack = pack or get_pack(PACK)
    return n.outbox_entries(change, pack, n.notifications_for(change, pack), contact, channels, NOW)


def test_the_reporter_is_told_on_every_contact_given_and_configured():
    found = {e["channel"]: e for e in entries(announced("submitted", None, "submitted"))}
    assert sorted(found) == ["email", "sms", "zalo"]
    assert found["email"]["message"]["to"] == "an@example.vn" and found["email"]["to_masked"] == "a***@example.vn"
    assert found["sms"]["message"] == {"to": "0905123456", "text": found["sms"]["message"]["text"]}
    assert found["zalo"]["message"]["phone"] == "84905123456"
    assert found["zalo"]["message"]["template_id"] == "paht-received"
    assert found["zalo"]["message"]["template_data"]["report_id"] == "PA-261124-0000ABCD"
    assert len({e["_id"] for e in found.values()}) == 3 and all(e["status"] == "pending" for e in found.values())
    only_mail = dict(CONTACT, phone=None, consents={"email": True, "sms": False, "zalo": False})
    assert [e["channel"] for e in entries(announced("submitted", None, "submitted"), only_mail)] == ["email"]
    assert entries(announced("submitted", None, "submitted"), None) == []      # no contact, or purged
    assert [e["channel"] for e in entries(announced("submitted", None, "submitted"),
                                          channels=frozenset({"sms"}))] == ["sms"]


def test_agencies_get_the_webhook_and_the_e_mail_of_their_directory_entry():
    change = announced("routed", "accepted", "dispatched", assigned_agencies=ASSIGNED[:1])
    hooks = [e for e in entries(change) if e["recipient"] == "agency:so-xay-dung"]
    assert [e["channel"] for e in hooks] == ["agency_webhook"]
    payload = hooks[0]["message"]
    assert payload["event"] == "assigned" and payload["agency"] == "so-xay-dung" and payload["pack"] == PACK
    assert payload["link"].endswith("/reports/PA-261124-0000ABCD") and "Ổ gà lớn" in payload["text"]

    real = get_pack(PACK)
    directory = dict(real.agencies, **{"so-xay-dung": dict(real.agencies["so-xay-dung"], email="sxd@hue.gov.vn")})
    pack = type("Pack", (), {"path": real.path, "meta": real.meta, "agencies": directory,
                             "categories": real.categories, "step": real.step})()
    channels = sorted(e["channel"] for e in entries(change, pack=pack) if e["recipient"] == "agency:so-xay-dung")
    assert channels == ["agency_webhook", "email"]
    warning = entries(deadline_change("deadline_warning", "process"))
    assert warning[0]["message"]["deadline"] == {"step": "process", "due": "2026-11-25T17:00:00+07:00",
                                                 "article": "Điều 11 khoản 2"}


IMMEDIATE_ROUTE = {"lead": "cong-an", "co": ["dien-luc"], "immediate": True, "rule": "tth-route-fire",
                   "article": "Điều 9 khoản 1"}
PLACE = {"lat": 16.46, "lon": 107.59, "address": "12 Lê Lợi"}


def test_an_immediate_case_tells_the_on_duty_system_once_routed_with_the_documented_body():
    change = announced("routed", "accepted", "dispatched", route=IMMEDIATE_ROUTE, category="fire_rescue",
                       location=PLACE, assigned_agencies=[{"id": "cong-an", "name": "Công an", "role": "lead"}])
    [entry] = immediate_entries(change, ALL_CHANNELS, NOW)
    assert entry["message"] == {                                            # docs/webhooks.md
        "report_id": "PA-261124-0000ABCD", "category": "fire_rescue", "lead": "cong-an", "co": ["dien-luc"],
        "ward": {"code": "19999", "name": "Phường Thuận Hóa"}, "location": PLACE,
        "description": "Ổ gà lớn giữa đường Lê Lợi", "rule": "tth-route-fire", "article": "Điều 9 khoản 1"}
    assert (entry["channel"], entry["template"], entry["recipient"], entry["to_masked"]) == (
        "immediate_webhook", "immediate", "agency:cong-an", "cong-an")
    assert entry["_id"] == "ev-1|agency:cong-an|immediate_webhook" and entry["status"] == "pending"
    assert immediate_entries(change, ALL_CHANNELS - {"immediate_webhook"}, NOW) == []      # no URL set
    normal = dict(IMMEDIATE_ROUTE, immediate=False)
    assert immediate_entries(announced("routed", "accepted", "dispatched", route=normal), ALL_CHANNELS, NOW) == []
    assert immediate_entries(announced("designated", "routing_unresolved", "dispatched", route=IMMEDIATE_ROUTE),
                             ALL_CHANNELS, NOW) == []


TRACKING_TOKEN = "tk-5b2f9c0e7d1a4e3b"
URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s\"'<>)]+", re.I)


def sent_texts(entry: dict) -> list[str]:
    """Every string of an outbox message, however deep (what actually leaves by the channel)."""
    found, pending = [], [entry["message"]]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            found.append(value)
    return found


@pytest.mark.parametrize("pack_id", list_packs())
def test_a_notifications_only_link_is_the_portals_page_of_the_report_without_a_token(pack_id, monkeypatch):
    """Every template of every pack, on every channel: the one URL is PAHT_PUBLIC_URL/reports/<id>, with no query
    or fragment, and the reporter's tracking token (even when the report carries it) appears nowhere."""
    monkeypatch.setenv("PAHT_PUBLIC_URL", "https://paht.example.gov.vn/")
    real = get_pack(pack_id)
    directory = {agency: dict(entry, email=f"{agency}@example.gov.vn") for agency, entry in real.agencies.items()}
    pack = type("Pack", (), {"path": real.path, "meta": real.meta, "agencies": directory,
                             "categories": real.categories, "step": real.step})()
    page = "https://paht.example.gov.vn/reports/PA-261124-0000ABCD"
    change = announced("verified", "submitted", "needs_supplement", reasons=REASONS, assigned_agencies=ASSIGNED,
                       route={"suggested_agency": "dien-luc"}, result={"text": "Đã vá ổ gà."},
                       publication={"letter": "THÔNG TIN KẾT QUẢ XỬ LÝ"}, tracking_token=TRACKING_TOKEN,
                       tracking_token_hash=TRACKING_TOKEN, pack=pack_id)
    deadline = {"step": "process", "due": "2026-11-25T17:00:00+07:00", "article": "Điều 11 khoản 2"}
    notices = [n.Notice(event, "so-xay-dung" if event in n.AGENCY_EVENTS else None, role="lead",
                        deadline=deadline if event.startswith("deadline") else None) for event in n.pack_events(pack)]
    found = n.outbox_entries(change, pack, notices, CONTACT, ALL_CHANNELS, NOW)
    assert {(e["template"], e["channel"]) for e in found} >= {(event, "email") for event in n.pack_events(pack)}
    for entry in found:
        texts = sent_texts(entry)
        links = [url.rstrip(".,;:") for text in texts for url in URL.findall(text)]
        assert links and set(links) == {page}, (entry["template"], entry["channel"], links)
        assert not any(TRACKING_TOKEN in text for text in texts), entry["_id"]


def test_nothing_is_queued_when_no_channel_is_configured():
    assert entries(announced("routed", "accepted", "dispatched", assigned_agencies=ASSIGNED),
                   channels=frozenset()) == []


def test_the_contact_is_what_the_reporter_gave_and_nothing_after_retention():
    report = {"reporter": {"name": "An", "phone": "0905123456", "email": None, "citizen_id": "012345678901",
                           "address": "1 Lê Lợi"}}
    assert reporter_contact(report) == {"name": "An", "email": None, "phone": "0905123456", "zalo_user_id": None,
                                        "consents": {"email": False, "sms": True, "zalo": True}}
    assert reporter_contact(dict(report, purged_at=NOW)) is None
    assert reporter_contact({"reporter": {"name": "An"}}) is None and reporter_contact(None) is None


# ---- the outbox ----------------------------------------------------------------------------------------------
@pytest.fixture
def store():
    return NotificationStore(Database(":memory:"))


def queued(store, channel="sms"):
    entry = next(e for e in entries(announced("submitted", None, "submitted")) if e["channel"] == channel)
    assert store.enqueue(entry) and not store.enqueue(dict(entry))       # a redelivery queues nothing new
    return store.claim(NOW)[0]


def test_claimed_notifications_are_not_claimed_again_until_their_lease_ends(store):
    queued(store)
    assert store.claim(NOW) == []
    assert len(store.claim(NOW + timedelta(seconds=121))) == 1


def test_a_failed_attempt_waits_longer_each_time_then_is_dead(store, monkeypatch):
    from paht import clock
    monkeypatch.setattr(clock, "now", lambda: NOW)
    monkeypatch.setattr(senders, "send", fail(senders.SendFailed("HTTP 500: down", permanent=False)))
    entry = queued(store)
    deliver(store, entry, 3)
    after = store.get(entry["_id"])
    assert after["status"] == "pending" and after["attempts"] == 1 and after["next_at"] == NOW + timedelta(seconds=30)
    assert after["last_error"] == "HTTP 500: down" and store.unreported() == []
    deliver(store, after, 3)
    assert store.get(entry["_id"])["next_at"] == NOW + timedelta(seconds=60)
    deliver(store, store.get(entry["_id"]), 3)
    dead = store.get(entry["_id"])
    assert dead["status"] == "dead" and dead["attempts"] == 3
    assert [e["_id"] for e in store.unreported()] == [entry["_id"]]
    decision = notified_decision(dead, NOW, "publishing")
    assert decision.kind == "notified" and decision.to_state is None and decision.patch == {}
    assert decision.detail == {"channel": "sms", "template": "received", "to": "09*****456", "recipient": "reporter",
                               "status": "dead", "error": "HTTP 500: down"}
    assert decision.event_id == notified_decision(dead, NOW, "publishing").event_id
    assert store.revive(entry["_id"], NOW) and store.get(entry["_id"])["attempts"] == 0
    assert notified_decision(store.get(entry["_id"]), NOW, "publishing").event_id != decision.event_id


def test_a_refusal_for_good_is_dead_at_once_and_a_success_is_sent(store, monkeypatch):
    monkeypatch.setattr(senders, "send", fail(senders.SendFailed("HTTP 400: bad number", permanent=True)))
    entry = queued(store)
    deliver(store, entry, 6)
    assert store.get(entry["_id"])["status"] == "dead"
    sent = []
    monkeypatch.setattr(senders, "send", lambda channel, message: sent.append((channel, message)))
    other = queued(store, "email")
    deliver(store, other, 6)
    assert store.get(other["_id"])["status"] == "sent" and sent[0][0] == "email"
    assert notified_decision(store.get(other["_id"]), NOW, "publishing").detail["status"] == "sent"


def test_retention_forgets_the_reporters_address_and_texts(store):
    entry = queued(store)
    store.forget_reporter(entry["report_id"])
    kept = store.get(entry["_id"])
    assert kept["to"] is None and kept["message"] is None and kept["to_masked"] == "09*****456"


def test_retention_forgets_the_text_and_place_an_immediate_case_told(store):
    change = announced("routed", "accepted", "dispatched", route=IMMEDIATE_ROUTE, location=PLACE)
    [entry] = immediate_entries(change, ALL_CHANNELS, NOW)
    store.enqueue(entry)
    store.forget_reporter(entry["report_id"])
    kept = store.get(entry["_id"])["message"]
    assert kept["description"] is None and kept["location"] is None and kept["lead"] == "cong-an"


def fail(error):
    def send(channel, message):
        raise error
    return send


# ---- the senders ---------------------------------------------------------------------------------------------
def test_smtp_url_parts():
    assert senders.smtp_parts("smtp://mail.example.vn:2525") == {"host": "mail.example.vn", "port": 2525,
                                                                 "user": None, "password": None, "starttls": False,
                                                                 "implicit_tls": False}
    parts = senders.smtp_parts("smtp://paht%40tinh:p%2Fw@relay:587?starttls=1")
    assert (parts["user"], parts["password"], parts["starttls"]) == ("paht@tinh", "p/w", True)
    assert senders.smtp_parts("smtp://relay")["port"] == 25
    with pytest.raises(senders.SendFailed):
        senders.smtp_parts("http://relay")


class Answer:
    def __init__(self, status):
        self.status_code, self.text = status, "why"


@pytest.mark.parametrize("status, permanent", [(500, False), (503, False), (429, False), (400, True),
                                               (404, True)])
def test_http_answers_say_whether_to_try_again(monkeypatch, status, permanent):
    monkeypatch.setattr(senders.requests, "post", lambda url, json, headers, timeout: Answer(status))
    with pytest.raises(senders.SendFailed) as failed:
        senders.post_json("http://gateway", {"to": "x"})
    assert failed.value.permanent is permanent and str(status) in failed.value.reason


def test_an_e_mail_is_utf8_with_the_configured_sender():
    mail = senders.email_message("PAHT <no-reply@paht.local>", {"to": "an@example.vn", "subject": "Đã tiếp nhận",
                                                                "body": "Kính gửi Ông/Bà\n"})
    assert mail["Subject"] == "Đã tiếp nhận" and mail["From"] == "PAHT <no-reply@paht.local>"
    assert mail.get_content_charset() == "utf-8" and "Kính gửi" in mail.get_content()


# ---- the binding (paht/flow.py) ------------------------------------------------------------------------------
def test_the_notifier_hears_what_it_tells_and_not_the_rest():
    from paht import flow
    from tests.unit.test_flow import hears
    keys = flow.SUBSCRIPTIONS["publishing.notify"]
    for key in ("transitioned.submitted.submitted", "transitioned.submitted.supplemented",
                "transitioned.needs_supplement.verified", "transitioned.rejected.verified",
                "transitioned.rejected.deadline_missed", "transitioned.rejected.judged",
                "transitioned.dispatched.routed", "transitioned.dispatched.designated",
                "transitioned.published.published", "transitioned.delivered_privately.delivered_privately",
                "transitioned.in_progress.reprocess_requested", "transitioned.in_progress.rework_requested",
                "transitioned.accepted.returned", "noted.in_progress.deadline_warning",
                "noted.dispatched.deadline_missed", "noted.in_progress.deadline_missed"):
        assert hears(key, keys), key
    for key in ("noted.in_progress.interaction", "transitioned.in_progress.acknowledged",
                "transitioned.accepted.verified", "noted.published.rated", "noted.submitted.judged",
                "transitioned.result_submitted.result_submitted", "transitioned.in_progress.sent_back"):
        assert not hears(key, keys), key
