"""The centre's check before publication, on the real broker, in every pack (issue 11): an approved result waits
for the operator, who sends it back (`rework`) or publishes it in the pack's own letter; a state secret is never
published and only its reporter reads the result, with the tracking token."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from paht import accounts, clock
from paht.demo_media import camera_jpeg
from paht.rules import get_pack
from paht.worktime import calendar_for

pytestmark = [pytest.mark.integration, pytest.mark.calendar]

# a point inside each province (checked against paht/data/boundaries with paht.geo.WardIndex)
POINTS = {
    "soc-trang-2022": (9.6025, 105.9739),        # phường Phú Lợi (the former Sóc Trăng city), Cần Thơ
    "soc-trang-2023": (9.6025, 105.9739),
    "thua-thien-hue-2022": (16.4637, 107.5909),  # phường Thuận Hóa, Huế
    "vinh-long-2025": (10.2537, 105.9722),       # phường Long Châu, Vĩnh Long
    "tay-ninh-2024": (11.3101, 106.0983),        # phường Tân Ninh, Tây Ninh
}
# each pack's own sentences from its appendix
WORDING = {
    "soc-trang-2022": ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "*Sóc Trăng, ngày ",
                       "Chúng tôi cảm ơn cá nhân/tổ chức và mong tiếp tục nhận được phản ánh.", "**Nơi nhận:**",
                       "THỦ TRƯỞNG ĐƠN VỊ", "UBND THÀNH PHỐ CẦN THƠ"],
    "soc-trang-2023": ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "*Sóc Trăng, ngày ",
                       "Chúng tôi cảm ơn cá nhân/tổ chức và mong tiếp tục nhận được phản ánh.", "**Nơi nhận:**",
                       "THỦ TRƯỞNG ĐƠN VỊ"],
    "thua-thien-hue-2022": ["Vấn đề quý cá nhân/tổ chức phản ánh,",
                            "Chân thành cảm ơn phản ánh của quý cá nhân/tổ chức"],
    "vinh-long-2025": ["Kính chào: Ông/bà", "Sau khi nhận được phản ánh của Ông/bà,",
                       "Chúng tôi chân thành cảm ơn Ông/Bà đã kịp thời phản ánh"],
    "tay-ninh-2024": ["UBND TỈNH TÂY NINH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "*Tây Ninh, ngày ",
                      "mong tiếp tục nhận được phản ánh, kiến nghị.", "**Nơi nhận:**", "THỦ TRƯỞNG ĐƠN VỊ"],
}
CONSENT_PACKS = ("soc-trang-2022", "soc-trang-2023", "thua-thien-hue-2022", "vinh-long-2025")


def field_report(pack: str, phone: str, account: str, description: str) -> dict:
    lat, lon = POINTS[pack]
    return {"pack": pack, "channel": "app", "category": "roads_traffic", "description": description,
            "reporter": {"name": "Nguyễn Văn An", "phone": phone, "email": f"{account}@example.vn",
                         "address": "12 Trần Hưng Đạo", "citizen_id": "079123456789", "account_id": account,
                         "account_proof": accounts.proof(account)},
            "location": {"lat": lat, "lon": lon, "source": "gps", "address": "12 Trần Hưng Đạo"}}


def photo(seed: int, hours_ago: float = 1.0):
    return (f"p{seed}.jpg", camera_jpeg(clock.now() - timedelta(hours=hours_ago), seed=seed), "image/jpeg")


def into_office_hours(system, pack: str) -> None:
    """Run in the province's office hours on a working day, whatever the wall clock says (intake windows)."""
    calendar = calendar_for(get_pack(pack).meta)
    now = clock.now()
    inside = calendar.next_opening(now) == now
    if inside and now.astimezone(calendar.tz).hour < 15:
        return
    target = calendar.next_opening(now + timedelta(hours=12) if inside else now) + timedelta(hours=1)
    system.advance((target - now).total_seconds())


def lead(view) -> str:
    return next(a["id"] for a in view["assigned_agencies"] if a["role"] == "lead")


def not_published_by_itself(system, report_id, before):
    """Publishing has handled the approval (it counts each announcement once its handler returned) and sent no
    publication since `before` (a `metrics("publishing")` taken before the approval): only the centre publishes."""
    system.wait_metric("publishing", "paht_messages_total", 1, before, "publishing heard of the approval",
                       service="publishing", kind="approved", outcome="handled")
    assert system.metric("publishing", "paht_decisions_sent_total", before, service="publishing",
                         kind=("published", "delivered_privately")) == 0
    return system.get(report_id)


def handle(system, pack, report_id, staff, leader, seed, text):
    """The agency's result with photos of the fixed scene, approved by its leader."""
    answer = system.staff(report_id, "submit_result", staff, photos=[photo(seed, 0)], result_text=text)
    assert answer.status_code == 200, answer.text
    answer = system.staff(report_id, "approve", leader)
    assert answer.status_code == 200, answer.text
    return system.wait_state(report_id, "approved")


@pytest.mark.parametrize("pack", list(POINTS))
def test_the_centre_checks_reworks_and_publishes_and_a_secret_stays_private(system, pack):
    system.start()
    into_office_hours(system, pack)
    operator = system.tokens["operator"]
    answer = system.submit(field_report(pack, "0905123456", f"{pack}-an", "Ổ gà lớn giữa đường, xe máy dễ té ngã"),
                           [photo(1)])
    assert answer.status_code == 201, answer.text
    report_id, report_token = answer.json()["id"], answer.json()["tracking_token"]
    secret = system.submit(field_report(pack, "0912000111", f"{pack}-binh",
                                        "Hàng rào khu vực quân sự bị đổ ra lòng đường"), [photo(2)])
    assert secret.status_code == 201, secret.text
    secret_id, token = secret.json()["id"], secret.json()["tracking_token"]

    view = system.wait_state(report_id, "dispatched")
    staff, leader = system.agency_tokens(pack, lead(view))
    system.wait_state(secret_id, "dispatched")
    marked = system.staff(secret_id, "mark_secret", operator, note="Liên quan bảo vệ bí mật nhà nước")
    assert marked.status_code == 200, marked.text
    assert system.staff(secret_id, "mark_secret", staff).status_code == 403

    # the agency sees the reporter masked unless the pack gives it the data: Tây Ninh on the agency's request
    # (Điều 13 khoản 8 "nếu có yêu cầu"; test_receipt_and_extension.py)
    seen = system.staff_get(f"reports/{report_id}", staff).json()["reporter"]
    assert seen["masked"] is True and seen.get("phone") != "0905123456"
    if pack not in CONSENT_PACKS:
        assert system.staff(report_id, "request_contact", staff).status_code == 200
        seen = system.staff_get(f"reports/{report_id}", staff).json()["reporter"]
        assert seen.get("phone") == "0905123456"
    assert system.staff_get(f"reports/{report_id}", operator).json()["reporter"]["citizen_id"] == "079123456789"

    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    early = system.staff(report_id, "publish", operator)
    assert early.status_code == 409 and early.json()["error"]["code"] == "ACTION_NOT_ALLOWED"
    before = system.metrics("publishing")
    handle(system, pack, report_id, staff, leader, 11, "Đã kiểm tra hiện trường.")
    assert not_published_by_itself(system, report_id, before)["state"] == "approved"   # the centre checks first
    for token_ in (staff, leader):
        refused = system.staff(report_id, "publish", token_)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"

    answer = system.staff(report_id, "rework", operator, kind="content", note="Thiếu hình ảnh sau khi vá")
    assert answer.status_code == 200, answer.text
    system.wait_state(report_id, "in_progress")
    internal = system.staff_get(f"reports/{report_id}", operator).json()["timeline"]
    rework = next(step for step in internal if step["kind"] == "rework_requested")
    assert rework["detail"]["kind"] == "content" and rework["to"] == "in_progress"

    handle(system, pack, report_id, staff, leader, 12, "Đã vá ổ gà, thảm lại mặt đường.")
    answer = system.staff(report_id, "publish", operator, letter_number="25/KQ")
    assert answer.status_code == 200, answer.text
    view = system.wait_state(report_id, "published")
    letter = view["result"]["letter"]
    assert "Đã vá ổ gà, thảm lại mặt đường." in letter and "/result-photos/" in letter
    for wording in WORDING[pack]:
        assert wording in letter, wording
    assert ("Số: 25/KQ" in letter) is (pack in ("soc-trang-2022", "soc-trang-2023", "tay-ninh-2024"))
    assert view["description"] == "Ổ gà lớn giữa đường, xe máy dễ té ngã"
    states = [step["to"] for step in view["timeline"]]
    assert states[-6:] == ["result_submitted", "approved", "in_progress", "result_submitted", "approved", "published"]

    # the secret: handled like any other, never published; its reporter alone reads the result
    assert system.staff(secret_id, "acknowledge", staff).status_code == 200
    handle(system, pack, secret_id, staff, leader, 13, "Đã phối hợp di dời hàng rào.")
    answer = system.staff(secret_id, "publish", operator)
    assert answer.status_code == 200, answer.text
    public = system.wait_state(secret_id, "delivered_privately")
    assert public["description"] is None and "result" not in public and public.get("private") is True
    own = requests.get(f"{system.api}/api/v1/reports/{secret_id}", headers={"X-Tracking-Token": token}, timeout=10)
    assert own.status_code == 200, own.text
    own = own.json()
    assert own["result"]["private"] is True and "Đã phối hợp di dời hàng rào." in own["result"]["letter"]
    assert own["description"] == "Hàng rào khu vực quân sự bị đổ ra lòng đường"
    wrong = requests.get(f"{system.api}/api/v1/reports/{secret_id}", headers={"X-Tracking-Token": "nope"}, timeout=10)
    assert wrong.status_code == 403
    feed = requests.get(f"{system.api}/api/v1/feed", params={"pack": pack}, timeout=10).json()["results"]
    assert [item["report_id"] for item in feed] == [report_id]
    assert "di dời hàng rào" not in repr(feed) and "0905123456" not in repr(feed)

    after_publication(system, pack, report_id, report_token, staff)


def reporter_post(system, report_id, token, what, body):
    return requests.post(f"{system.api}/api/v1/reports/{report_id}/{what}", json=body,
                         headers={"X-Tracking-Token": token}, timeout=10)


def deadlines_of(view, step):
    return [d for d in view["deadlines"] if d["step"] == step]


def after_publication(system, pack, report_id, token, staff):
    """The pack's own path after publication: the reporter's interaction answered by the lead agency, then the
    reporter's "Không hài lòng" and what the pack makes of it (pack.yaml rating_scale.unsatisfied)."""
    asked = reporter_post(system, report_id, token, "interactions", {"message": "Mặt đường vá có bền không?"})
    assert asked.status_code == 200, asked.text
    interaction = system.wait_for(report_id, lambda v: v["interactions"], what="the interaction")["interactions"][0]
    answer = system.staff(report_id, "reply", staff, interaction_id=interaction["id"],
                          note="Đơn vị sẽ kiểm tra lại sau mỗi đợt mưa.")
    assert answer.status_code == 200, answer.text
    replied = system.wait_for(report_id, lambda v: v["interactions"][0].get("reply"), what="the reply")
    assert replied["interactions"][0]["reply"] == "Đơn vị sẽ kiểm tra lại sau mỗi đợt mưa."

    scale = get_pack(pack).meta["rating_scale"]
    unsatisfied = next(level["id"] for level in get_pack(pack).rating_levels() if level["counts_as"] == "unsatisfied")
    satisfied = next(level["id"] for level in get_pack(pack).rating_levels() if level["counts_as"] == "satisfied")
    processes_before = [d["opened_at"] for d in deadlines_of(system.get(report_id), "process")]
    rated = reporter_post(system, report_id, token, "rating", {"level": unsatisfied})
    assert rated.status_code == 200, rated.text
    action = scale["unsatisfied"]["action"]
    if pack == "tay-ninh-2024":
        assert action == "reprocess"
        view = system.wait_for(report_id, lambda v: v["state"] == "in_progress" and any(
            d["opened_at"] not in processes_before for d in deadlines_of(v, "process")), what="a new process deadline")
        fresh = next(d for d in deadlines_of(view, "process") if d["opened_at"] not in processes_before)
        assert not fresh.get("closed_at") and not fresh["late"] and fresh["rule"] == "tn24-sla-process"
    elif pack in ("thua-thien-hue-2022", "vinh-long-2025"):
        assert action == "clarify"
        view = system.wait_for(report_id, lambda v: deadlines_of(v, "clarify"), what="a clarify deadline")
        [clarify] = deadlines_of(view, "clarify")
        assert clarify["agency"] == lead(view) and not clarify.get("closed_at") and view["state"] == "published"
        assert clarify["rule"] == {"thua-thien-hue-2022": "tth-sla-clarify", "vinh-long-2025": "vl25-sla-clarify"}[pack]
        answer = system.staff(report_id, "clarify", staff, note="Đã liên hệ, giải thích lại kết quả xử lý.")
        assert answer.status_code == 200, answer.text
        system.wait_for(report_id, lambda v: deadlines_of(v, "clarify")[0].get("closed_at"), what="clarified")
    else:
        assert action == "new_report"
        view = system.wait_for(report_id, lambda v: v.get("rating"), what="the stored rating")
        assert view["state"] == "published" and (view["rating"].get("level") == unsatisfied), view["rating"]
        again = field_report(pack, "0905123456", f"{pack}-an", "Ổ gà vừa vá đã bong tróc trở lại")
        follow_up = system.submit(dict(again, follows=report_id), [photo(14)])
        assert follow_up.status_code == 201, follow_up.text
    twice = reporter_post(system, report_id, token, "rating", {"level": satisfied})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "ACTION_NOT_ALLOWED"
