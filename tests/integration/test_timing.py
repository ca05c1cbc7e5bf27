"""Issue 11 on the real broker: intake hours hold normal reports until the opening, multi-agency deadlines are
charged to each co-agency, interactions have reply deadlines, dissatisfied ratings reprocess (Tây Ninh) or open a
clarification (Huế), a reporter whose interactions are locked gets 403."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from paht import accounts, clock
from paht.geo import WardIndex
from paht.rules import get_pack
from paht.worktime import calendar_for
from tests.integration.test_walking_route import fresh_photo, good_report

pytestmark = [pytest.mark.integration, pytest.mark.calendar]


def move_to(system, pack, hour, minute=0, working_day=True, seconds=0):
    """Advance the controlled clock to the next hour:minute (local), on a working day when asked."""
    calendar = calendar_for(get_pack(pack).meta)
    now = clock.now().astimezone(calendar.tz)
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    while target <= now or (working_day and not calendar.is_working_day(target.date())):
        target += timedelta(days=1)
    system.advance((target - now).total_seconds() + seconds)
    return target


def held_by_routing(system, report_id, before):
    """Routing held the report, and no routing decision for it has gone out since `before` (a `metrics("routing")`
    taken before it was submitted), while routing's timer looked at the holds twice after the hold was stored."""
    # the acceptance handled: the hold is stored (before the deferral intake shows) and nothing else of that
    # handler is still to come
    system.wait_metric("routing", "paht_messages_total", 1, before, "routing took the acceptance",
                       service="routing", kind="verified", outcome="handled")
    # the timer's rounds (release_due) run one at a time and each is counted when it ends: of two counted after
    # this snapshot, the second began after it
    rounds = system.metrics("routing")
    system.wait_metric("routing", "paht_entrypoint_duration_seconds_count", 2, rounds, "two rounds of the holds",
                       service="routing", entrypoint="tick", type="timer")
    assert system.metric("routing", "paht_decisions_sent_total", before, service="routing",
                         kind=("routed", "routing_unresolved")) == 0
    return system.get(report_id)


def internal(system, report_id):
    return system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()


def deadline(view, step, agency=None):
    found = [d for d in view["deadlines"] if d["step"] == step and (agency is None or d.get("agency") == agency)]
    return found[-1] if found else None


def lead_of(view):
    return next(a["id"] for a in view["assigned_agencies"] if a["role"] == "lead")


def report_in(pack, seed, **extra):
    lat, lon = WardIndex.of_pack(pack).random_point(random.Random(seed))
    account = f"{pack}-{seed}"
    report = {"pack": pack, "channel": "app", "category": "roads_traffic",
              "description": "Ổ gà lớn giữa đường, xe máy dễ té ngã",
              "reporter": {"name": "Nguyễn Văn An", "phone": f"09051{seed:05d}", "email": f"an{seed}@example.vn",
                           "citizen_id": f"0790{seed:08d}", "address": "Số 5 đường Trần Hưng Đạo",
                           "account_id": account, "account_proof": accounts.proof(account)},
              "location": {"lat": lat, "lon": lon, "source": "gps", "address": "Số 12 đường 30/4"}}
    report.update(extra)
    return report


def reporter_post(system, report_id, token, what, body):
    return requests.post(f"{system.api}/api/v1/reports/{report_id}/{what}", json=body,
                         headers={"X-Tracking-Token": token}, timeout=10)


def to_published(system, report_id):
    """Acknowledge, result with photos, leader's approval, the centre's publication."""
    view = system.wait_state(report_id, "dispatched")
    staff, leader = system.agency_tokens(view["pack"], lead_of(view))
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    answer = system.staff(report_id, "submit_result", staff, photos=[fresh_photo(0, seed=91)], result_text="Đã vá.")
    assert answer.status_code == 200, answer.text
    assert system.staff(report_id, "approve", leader).status_code == 200
    system.wait_state(report_id, "approved")
    assert system.staff(report_id, "publish", system.tokens["operator"]).status_code == 200
    return system.wait_state(report_id, "published")


def test_a_hue_report_at_night_waits_for_0730_and_its_deadlines_count_from_there(system):
    system.start()
    night = move_to(system, "thua-thien-hue-2022", 2, 0, working_day=False, seconds=5)
    before = system.metrics("routing")
    answer = system.submit(good_report(), [fresh_photo()])
    assert answer.status_code == 201, answer.text                  # stored and acknowledged to the reporter
    report_id = answer.json()["id"]
    view = system.wait_for(report_id, lambda v: v["state"] == "accepted" and deadline(v, "dispatch"),
                           what="accepted, dispatch deadline")
    day = night.date().isoformat()
    assert deadline(view, "dispatch")["due"] == f"{day}T08:00:00+07:00"    # 30 minutes from the opening
    kinds = [entry["kind"] for entry in internal(system, report_id)["timeline"]]
    assert "dispatch_deferred" in kinds
    assert held_by_routing(system, report_id, before)["state"] == "accepted"   # not dispatched at night (Điều 4 k 2)

    move_to(system, "thua-thien-hue-2022", 7, 30, working_day=False, seconds=5)
    view = system.wait_for(report_id, lambda v: v["state"] == "dispatched" and deadline(v, "acknowledge"),
                           what="dispatched at the opening")
    acknowledge = deadline(view, "acknowledge")
    assert acknowledge["opened_at"] == f"{day}T07:30:00+07:00"
    assert acknowledge["due"] == f"{day}T08:00:00+07:00"
    assert deadline(view, "dispatch")["late"] is False


def test_a_report_held_for_the_morning_goes_at_once_when_the_operator_judges_it_urgent(system):
    """Routing hears a held report's changes that keep it `accepted` (noted.accepted.*): urgent ones are not held."""
    system.start()
    move_to(system, "thua-thien-hue-2022", 2, 0, working_day=False, seconds=5)
    before = system.metrics("routing")
    report_id = system.submit(good_report(), [fresh_photo()]).json()["id"]
    system.wait_for(report_id, lambda v: v["state"] == "accepted" and deadline(v, "dispatch"), what="held")
    assert held_by_routing(system, report_id, before)["state"] == "accepted"
    answer = system.staff(report_id, "judge", system.tokens["operator"], value={"name": "urgent", "value": True})
    assert answer.status_code == 200, answer.text
    system.wait_state(report_id, "dispatched", timeout=10)


def test_st22_forward_to_two_co_agencies_charges_each_its_own_lateness(system):
    system.start()
    pack = "soc-trang-2022"
    move_to(system, pack, 9, 0)
    report_id = system.submit(report_in(pack, 7), [fresh_photo(seed=7)]).json()["id"]
    view = system.wait_state(report_id, "dispatched")
    lead = lead_of(view)
    ward = next(a["id"] for a in view["assigned_agencies"] if a["role"] == "co")
    staff, _ = system.agency_tokens(pack, lead)
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    view = system.wait_for(report_id, lambda v: deadline(v, "forward") and deadline(v, "process"),
                           what="forward deadline")
    assert deadline(view, "forward")["agency"] == lead and deadline(view, "forward")["amount"] == 4   # Điều 10 k2 b
    assert system.staff(report_id, "forward", staff, agencies=["dien-luc"]).status_code == 200
    view = system.wait_for(report_id, lambda v: deadline(v, "co_process", "dien-luc") and
                           deadline(v, "co_process", ward), what="co-agency deadlines")
    assert deadline(view, "forward").get("closed_at")
    # the lead's single-agency 6 wd no longer runs: the co-agencies have their own time (E9)
    view = system.wait_for(report_id, lambda v: deadline(v, "process").get("closed_at"), what="process replaced")

    ward_staff, ward_leader = system.agency_tokens(pack, ward)
    assert system.staff(report_id, "submit_result", ward_staff, result_text="Phường đã rào chắn.").status_code == 200
    assert system.staff(report_id, "approve", ward_leader).status_code == 200
    system.wait_for(report_id, lambda v: deadline(v, "co_process", ward).get("closed_at"), what="ward's part")

    part = deadline(view, "co_process", "dien-luc")                   # Điện lực never sends its part (6 wd)
    system.advance((datetime.fromisoformat(part["due"]) - clock.now()).total_seconds() + 60)
    view = system.wait_for(report_id, lambda v: deadline(v, "co_process", "dien-luc")["late"], what="late part")
    late = [(d["step"], d["agency"]) for d in view["deadlines"] if d["late"]]
    assert late == [("co_process", "dien-luc")]                       # not the lead's, not the ward's (E9)
    now = clock.now()
    with ClusterRpcProxy(system.rabbit_config) as rpc:
        cards = rpc.sla.agency_lateness(pack, (now - timedelta(days=30)).isoformat(), now.isoformat())
    assert cards["agencies"]["dien-luc"]["late_count"] == 1
    assert cards["agencies"].get(lead, {}).get("late_count", 0) == 0
    assert cards["agencies"].get(ward, {}).get("late_count", 0) == 0


def test_hue_interactions_have_a_one_day_reply_deadline(system):
    system.start()
    move_to(system, "thua-thien-hue-2022", 9, 0)
    answer = system.submit(good_report(), [fresh_photo()]).json()
    report_id, token = answer["id"], answer["tracking_token"]
    view = system.wait_state(report_id, "dispatched")
    staff, _ = system.agency_tokens(view["pack"], lead_of(view))
    assert system.staff(report_id, "acknowledge", staff).status_code == 200
    for text in ("Khi nào sửa xong?", "Có rào chắn tạm không?"):
        posted = reporter_post(system, report_id, token, "interactions", {"message": text})
        assert posted.status_code == 200, posted.text
    view = system.wait_for(report_id, lambda v: len([d for d in v["deadlines"] if d["step"] == "interaction_reply"]) == 2,
                           what="two reply deadlines")
    first, second = (item["id"] for item in view["interactions"])
    replies = {d["subject"]: d for d in view["deadlines"] if d["step"] == "interaction_reply"}
    assert replies[first]["rule"] == "tth-sla-interaction" and replies[first]["article"] == "Điều 13 khoản 3"
    answer = system.staff(report_id, "reply", staff, interaction_id=first, note="Dự kiến sửa xong trong tuần.")
    assert answer.status_code == 200, answer.text
    system.wait_for(report_id, lambda v: next(d for d in v["deadlines"] if d.get("subject") == first).get("closed_at"),
                    what="reply deadline closed")
    system.advance(86400 + 60)
    view = system.wait_for(report_id, lambda v: next(d for d in v["deadlines"] if d.get("subject") == second)["late"],
                           what="unanswered interaction late")
    assert not next(d for d in view["deadlines"] if d.get("subject") == first)["late"]


def test_tay_ninh_dissatisfied_rating_sends_the_result_back_for_processing(system):
    system.start()
    pack = "tay-ninh-2024"
    move_to(system, pack, 9, 0)
    answer = system.submit(report_in(pack, 5, category="trees_parks",
                                     description="Cây xanh gãy nhánh chắn lối đi"), [fresh_photo(seed=5)]).json()
    report_id, token = answer["id"], answer["tracking_token"]
    to_published(system, report_id)
    first_process = deadline(system.wait_for(report_id, lambda v: deadline(v, "process"), what="process deadline"),
                             "process")
    rated = reporter_post(system, report_id, token, "rating", {"level": "khong_hai_long"})
    assert rated.status_code == 200, rated.text
    view = system.wait_for(report_id, lambda v: v["state"] == "in_progress" and deadline(v, "process")
                           and deadline(v, "process")["opened_at"] != first_process["opened_at"],
                           what="reprocessing with a new process deadline")
    process = deadline(view, "process")
    assert process["rule"] == "tn24-sla-process" and not process.get("closed_at") and not process["late"]
    kinds = [entry["kind"] for entry in internal(system, report_id)["timeline"]]
    assert kinds.index("rated") < kinds.index("reprocess_requested")
    again = reporter_post(system, report_id, token, "rating", {"level": "hai_long"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "ACTION_NOT_ALLOWED"


def test_hue_dissatisfied_rating_opens_the_agencys_clarification_and_rating_twice_is_refused(system):
    system.start()
    move_to(system, "thua-thien-hue-2022", 9, 0)
    answer = system.submit(good_report(), [fresh_photo()]).json()
    report_id, token = answer["id"], answer["tracking_token"]
    view = to_published(system, report_id)
    rated = reporter_post(system, report_id, token, "rating", {"level": "khong_hai_long"})
    assert rated.status_code == 200, rated.text
    view = system.wait_for(report_id, lambda v: deadline(v, "clarify"), what="clarify deadline")
    clarify = deadline(view, "clarify")
    assert clarify["agency"] == lead_of(view) and clarify["rule"] == "tth-sla-clarify"
    assert view["state"] == "published"
    again = reporter_post(system, report_id, token, "rating", {"level": "hai_long"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "ACTION_NOT_ALLOWED"
    staff, _ = system.agency_tokens(view["pack"], lead_of(view))
    answer = system.staff(report_id, "clarify", staff, note="Đã liên hệ, giải thích lại kết quả xử lý.")
    assert answer.status_code == 200, answer.text
    system.wait_for(report_id, lambda v: deadline(v, "clarify").get("closed_at"), what="clarified")


def test_a_reporter_with_locked_interactions_gets_403(system):
    system.start()
    move_to(system, "thua-thien-hue-2022", 9, 0)
    answer = system.submit(good_report(), [fresh_photo()]).json()
    report_id, token = answer["id"], answer["tracking_token"]
    system.wait_state(report_id, "dispatched")
    for n in range(4):        # "tương tác vi phạm trên 3 lần trong vòng 1 tháng" (Điều 14 khoản 1)
        refused = reporter_post(system, report_id, token, "interactions", {"message": f"Làm ăn như đồ chó {n}"})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "PROHIBITED_INTERACTION"
        # verification counts it and decides; the 4th refusal says the interactions are now locked
        assert ("interactions now locked" in refused.json()["error"]["detail"]) is (n == 3)
    locked = reporter_post(system, report_id, token, "interactions", {"message": "Khi nào sửa xong?"})
    assert locked.status_code == 403, locked.text
    error = locked.json()["error"]
    assert error["code"] == "INTERACTION_LOCKED" and error["message"].startswith("Chức năng tương tác")
    assert system.get(report_id)["interactions"] == []               # nothing was posted
