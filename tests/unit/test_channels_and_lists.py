"""The pure parts of the channels (Zalo's signature, a message's pieces, the drafts), the feed's query and cursor,
the public location, and the staff lists' order and exports."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from paht.errors import ApiError
from paht.storage import open_database
from services.gateway import exports, zalo
from services.gateway.channel_schemas import OperatorReportIn, ZaloEvent, not_in_future
from services.gateway.schemas import FeedQuery
from services.intake import lists
from services.intake.reports import new_report
from services.publishing.dependencies import (
    PublicationStore,
    decode_cursor,
    encode_cursor,
    feed_query,
)
from services.publishing.letters import public_location

NOW = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
SECRET = b"oa-secret"


def event(name="user_send_text", msg_id="m1", sender="1234567890", text=None, attachments=()):
    body = {"app_id": "3608465249", "event_name": name, "sender": {"id": sender}, "recipient": {"id": "99"},
            "timestamp": "1741053600000", "message": {"msg_id": msg_id, "attachments": list(attachments)}}
    if text is not None:
        body["message"]["text"] = text
    return body


def image(url="http://media.local/a.jpg"):
    return {"type": "image", "payload": {"url": url, "thumbnail": url}}


def place(lat="16.4637", lon="107.5909"):
    return {"type": "location", "payload": {"coordinates": {"latitude": lat, "longitude": lon}}}


# ---- Zalo ---------------------------------------------------------------------------------------------------------
def test_the_signature_is_zalos_mac_over_app_id_body_timestamp_and_secret():
    raw = json.dumps(event(text="Đèn đường hỏng")).encode()
    good = "mac=" + zalo.mac("3608465249", raw, "1741053600000", SECRET)
    assert zalo.signature_ok(good, "3608465249", "1741053600000", raw, SECRET)
    assert zalo.signature_ok(good.upper().replace("MAC=", "mac="), "3608465249", 1741053600000, raw, SECRET)
    assert not zalo.signature_ok(good, "3608465249", "1741053600000", raw + b" ", SECRET)
    assert not zalo.signature_ok(good, "3608465249", "1741053600001", raw, SECRET)
    assert not zalo.signature_ok(good, "3608465249", "1741053600000", raw, b"another secret")
    assert not zalo.signature_ok(good[4:], "3608465249", "1741053600000", raw, SECRET)   # no "mac="
    assert not zalo.signature_ok("", "3608465249", "1741053600000", raw, SECRET)
    assert not zalo.signature_ok(good, None, "1741053600000", raw, SECRET)
    assert not zalo.signature_ok(good, "3608465249", True, raw, SECRET)


def test_a_message_brings_its_text_photos_and_location():
    found = zalo.pieces(ZaloEvent.model_validate(event("user_send_image", text=" Rác ", attachments=[image(), image(
        "http://media.local/b.jpg"), {"type": "sticker", "payload": {"url": "http://x/s"}}])))
    assert found == zalo.Pieces("Rác", ["http://media.local/a.jpg", "http://media.local/b.jpg"], None)
    found = zalo.pieces(ZaloEvent.model_validate(event("user_send_location", attachments=[place()])))
    assert found.location == {"lat": 16.4637, "lon": 107.5909} and found.text is None
    assert zalo.pieces(ZaloEvent.model_validate(event(text="\u200b"))).empty()


@pytest.mark.parametrize("body", [
    event("follow"), event(sender="not-a-number"), event(attachments=[place(lat="91")]),
    {k: v for k, v in event().items() if k != "message"},
])
def test_events_we_do_not_use_are_not_read(body):
    with pytest.raises(ValueError):
        ZaloEvent.model_validate(body)


def test_drafts_gather_a_senders_messages_once_each_until_complete():
    drafts = zalo.ZaloDrafts(open_database("gateway", "memory://"))
    assert drafts.claim_message("m1", NOW) and not drafts.claim_message("m1", NOW)
    draft = drafts.add("42", "m1", zalo.Pieces("Ổ gà", [], None), NOW)
    assert not zalo.complete(draft)
    draft = drafts.add("42", "m2", zalo.Pieces(None, ["http://media.local/a.jpg"], None), NOW)
    stale = dict(draft)
    draft = drafts.add("42", "m3", zalo.Pieces(None, [], {"lat": 16.4, "lon": 107.5}), NOW + timedelta(minutes=1))
    assert zalo.complete(draft) and draft["messages"] == ["m1", "m2", "m3"]
    assert not drafts.take(stale)                 # a reader of an older version does not get it
    assert drafts.take(draft) and not drafts.take(draft)
    report = zalo.draft_report(draft, "thua-thien-hue-2022")
    assert report.channel == "zalo" and report.reporter.zalo_user_id == "42" and report.description == "Ổ gà"
    assert report.location.lat == 16.4 and report.received_at == NOW


def test_a_quiet_draft_is_dropped_when_the_sender_writes_again():
    drafts = zalo.ZaloDrafts(open_database("gateway", "memory://"))
    drafts.add("42", "m1", zalo.Pieces("cũ", ["http://media.local/a.jpg"], None), NOW)
    later = NOW + zalo.DRAFT_WINDOW + timedelta(seconds=1)
    draft = drafts.add("42", "m2", zalo.Pieces("mới", [], None), later)
    assert draft["texts"] == ["mới"] and "images" not in draft and draft["first_at"] == later


# ---- reports an operator enters ---------------------------------------------------------------------------------
def test_an_entered_report_records_who_entered_it_and_when_the_caller_reported():
    entered = OperatorReportIn.model_validate({
        "pack": "thua-thien-hue-2022", "channel": "hotline", "description": "Cống tắc",
        "caller": {"name": "An", "phone": "0905123456", "zalo_user_id": "77"},
        "received_at": "2025-03-04T08:50:00+07:00"})
    operator = {"user": "operator:*:*", "role": "operator", "name": "demo operator"}
    report = new_report(entered.report(operator), [], NOW, "PA-250304-0000000A", "token")
    assert report["entered_by"] == operator and report["received_at"] == datetime(2025, 3, 4, 1, 50, tzinfo=UTC)
    assert report["reporter"]["zalo_user_id"] == "77" and report["reporter"]["account_verified"] is False
    assert report["timeline"][0]["actor"] == {"role": "reporter", "channel": "hotline", "entered_by": operator}
    assert not_in_future(report["received_at"], NOW) == {}
    assert not_in_future(NOW + timedelta(seconds=1), NOW) == {"received_at": "after the current time"}


# ---- the public feed --------------------------------------------------------------------------------------------
def published(report_id, at, ward="w1", category="roads_traffic", lat=16.4637, lon=107.5909, pack="thua-thien-hue-2022",
              keep_private=False):
    report = {"id": report_id, "pack": pack, "category": category, "ward": {"code": ward, "name": ward},
              "location": {"lat": lat, "lon": lon, "address": "12 Lê Lợi", "source": "gps"},
              "keep_private": keep_private}
    return report, {"letter": "…", "published_at": at.isoformat(), "private": False}


def test_the_location_is_rounded_where_the_pack_hides_personal_data_on_request():
    report = {"location": {"lat": 10.253712, "lon": 105.972249, "address": "12 Lê Lợi"}, "keep_private": True}
    hides = SimpleNamespace(meta={"publication": {"hide_personal_data_on_request": {"article": "Điều 5 khoản 4"}}})
    shows = SimpleNamespace(meta={"publication": {"private_on_request": {"article": "x"}}})
    assert public_location(report, hides) == {"lat": 10.254, "lon": 105.972, "address": None, "rounded": True}
    assert public_location(report, shows)["lat"] == 10.253712
    assert public_location(dict(report, keep_private=False), hides)["rounded"] is False
    assert public_location({"location": None}, hides) is None


def test_feed_pages_follow_each_other_and_filters_narrow_them():
    store = PublicationStore(open_database("publishing", "memory://"))
    for index in range(5):
        store.record(*published(f"PA-250304-0000000{index}", NOW + timedelta(hours=index),
                                ward="w1" if index % 2 else "w2", lat=16.0 + index / 10))
    first = store.page(limit=2)
    assert [r["report_id"] for r in first["results"]] == ["PA-250304-00000004", "PA-250304-00000003"]
    second = store.page(limit=2, cursor=first["next"])
    third = store.page(limit=2, cursor=second["next"])
    assert [r["report_id"] for r in second["results"] + third["results"]] == [
        "PA-250304-00000002", "PA-250304-00000001", "PA-250304-00000000"] and third["next"] is None
    assert [r["report_id"] for r in store.page(ward="w1")["results"]] == ["PA-250304-00000003", "PA-250304-00000001"]
    since, until = (NOW + timedelta(hours=1)).isoformat(), (NOW + timedelta(hours=3)).isoformat()
    assert [r["report_id"] for r in store.page(since=since, until=until)["results"]] == [
        "PA-250304-00000002", "PA-250304-00000001"]
    assert [r["report_id"] for r in store.page(bbox=[107, 16.15, 108, 16.35])["results"]] == [
        "PA-250304-00000003", "PA-250304-00000002"]
    assert store.page(cursor="bm9wZQ")["error"]["fields"] == {"cursor": "not a cursor this feed gave"}
    assert store.page(since="yesterday")["error"]["code"] == "VALIDATION_FAILED"


def test_a_cursor_is_only_what_the_feed_gave():
    item = {"at": NOW, "_id": "PA-250304-00000004"}
    assert decode_cursor(encode_cursor(item)) == (NOW, "PA-250304-00000004")
    for hostile in ("", "!!!", "W10", "WyJ4IiwgMV0", "eyJhIjogMX0"):
        with pytest.raises(ApiError):
            decode_cursor(hostile)
    assert feed_query(pack="x", after=(NOW, "id"))["$or"][1] == {"at": NOW, "_id": {"$lt": "id"}}


@pytest.mark.parametrize("args", [{"bbox": "1,2,3"}, {"bbox": "1,2,0,1"}, {"bbox": "nan,1,2,3"}, {"from": "2025-13-01"},
                                  {"from": "2025-03-05", "to": "2025-03-04"}, {"limit": "0"}])
def test_feed_queries_that_make_no_sense_are_refused(args):
    with pytest.raises(ValueError):
        FeedQuery.model_validate(args)


# ---- staff lists ------------------------------------------------------------------------------------------------
def report(report_id, submitted_hours, dues=(), name="Nguyễn Văn An", description="Ổ gà"):
    deadlines = {f"s{i}": {"step": f"s{i}", "due": due.isoformat(), "opened_at": NOW.isoformat(),
                           **({"closed_at": NOW.isoformat()} if closed else {})}
                 for i, (due, closed) in enumerate(dues)}
    return {"_id": report_id, "pack": "thua-thien-hue-2022", "state": "dispatched", "category": "roads_traffic",
            "description": description, "ward": {"code": "w", "name": "Thuận Hóa"}, "assigned_agencies": [],
            "deadlines": deadlines, "timeline": [], "submitted_at": NOW + timedelta(hours=submitted_hours),
            "channel": "hotline", "reporter": {"name": name, "phone": "0905123456", "email": "an@example.vn"},
            "location": {"lat": 16.4, "lon": 107.5, "address": "Lê Lợi"}}


def test_staff_lists_sort_by_the_current_deadline():
    soon, later = NOW + timedelta(hours=1), NOW + timedelta(hours=5)
    reports = [report("A", 0, [(soon, True), (later, False)]), report("B", 1, [(soon, False)]), report("C", 2)]
    assert lists.next_due(reports[0]) == later
    assert [r["_id"] for r in lists.ordered(reports, "due")] == ["B", "A", "C"]
    assert [r["_id"] for r in lists.ordered(reports, "-due")] == ["A", "B", "C"]
    assert [r["_id"] for r in lists.ordered(reports, "submitted")] == ["A", "B", "C"]
    assert [r["_id"] for r in lists.ordered(reports, "-submitted")] == ["C", "B", "A"]


def test_exports_mask_the_reporter_for_agencies_and_never_run_a_citizens_formula():
    agency = {"role": "agency_staff", "pack": "thua-thien-hue-2022", "agency": "x"}
    rows = [lists.row(report("A", 0, description="=HYPERLINK(\"http://evil\")\x07"), agency)]
    text = exports.as_csv(lists.COLUMNS, rows).decode("utf-8")
    assert text.startswith("\ufeffMã phản ánh,")
    written = list(csv.reader(io.StringIO(text[1:])))
    assert written[0] == list(lists.COLUMNS)
    line = dict(zip(written[0], written[1]))
    assert line["Người phản ánh"] == "N. V. A." and line["Số điện thoại"] == "09******56" and line["Thư điện tử"] == ""
    assert line["Nội dung"].startswith("'=HYPERLINK")
    sheet = load_workbook(io.BytesIO(exports.as_xlsx(lists.COLUMNS, rows))).active
    cells = {sheet.cell(1, c).value: sheet.cell(2, c) for c in range(1, sheet.max_column + 1)}
    assert cells["Nội dung"].data_type == "s" and cells["Nội dung"].value == '=HYPERLINK("http://evil")'   # text
    assert cells["Số điện thoại"].value == "09******56" and cells["Mã phản ánh"].value == "A"
    centre = lists.row(report("A", 0), {"role": "operator"})
    assert dict(zip(lists.COLUMNS, centre))["Thư điện tử"] == "an@example.vn"
