"""Issue 23 items 3, 4, 8 (review W8 W9 W12 W13 M1, F3 F4 F6): what holds a report for its evidence and for how long.

- ST-22 Điều 6 khoản 5 điểm b: the centre's check of a held report fails it after 48 giờ; Điều 8 khoản 2: the
  receive deadline runs from the report's arrival, the hold does not end it.
- TTH Điều 18 (SOS), Điều 15 and the other packs' immediate procedures: dispatched at once, whatever evidence is
  missing (asked beside); ST-23 Điều 19 Bước 2: no system deadline for urgent processing.
- TTH Điều 7 khoản 5 điểm b, VL Điều 8 khoản 2: a new report on the same matter is refused only while the earlier
  one is "còn trong thời hạn xử lý" (the sla service answers).
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from paht.rules import get_pack
from paht.storage import open_database
from services.sla.deadlines import within_processing_deadline
from services.verification.dependencies import EvidenceStore
from services.verification.verify import needs_identity_check, routed_immediately
from tests.unit.test_sla_timing_service import MON, Flow, fixed_clock  # noqa: F401 — the sla harness and its clock

pytestmark = pytest.mark.calendar


def held_st22():
    flow = Flow("soc-trang-2022", state="needs_supplement", agencies=())
    flow.announce("supplemented", "submitted")
    assert [k for k, _ in flow.running()] == ["receive"]
    flow.announce("operator_check_started")
    return flow


def test_st22_the_hold_keeps_the_receive_deadline_and_fails_the_report_after_48_hours():
    flow = held_st22()
    assert sorted(k for k, _ in flow.running()) == ["operator_check", "receive"]
    check = flow.one("operator_check")
    assert check["rule"] == "st22-sla-operator-check" and check["article"] == "Điều 6 khoản 5 điểm b"
    assert check["due"] - check["starts_at"] == timedelta(hours=48) and check["role"] == "side"
    # a second check found later does not restart the 48 hours
    flow.announce("operator_check_started", at=flow.at(check["starts_at"] + timedelta(hours=3)))
    assert [d["_id"] for d in flow.all("operator_check")] == [check["_id"]]
    flow.at(check["due"] + timedelta(minutes=1))
    flow.service.sweep()
    [rejected] = [d for d in flow.sent("deadline_missed") if d["detail"]["step"] == "operator_check"]
    assert rejected["to_state"] == "rejected" and rejected["from_states"] == ["submitted"]
    assert rejected["patch"]["reasons"][0]["code"] == "OPERATOR_CHECK_TIMEOUT"
    assert rejected["patch"]["reasons"][0]["article"] == "Điều 6 khoản 5 điểm b"


def test_st22_a_judged_check_ends_the_hold_and_receiving_ends_with_acceptance():
    flow = held_st22()
    flow.announce("verified", "accepted", at=flow.at(MON + timedelta(hours=1)))
    assert [d["status"] for d in flow.all("operator_check")] == ["closed"]
    assert [d["status"] for d in flow.all("receive")] == ["closed"]


def test_tth_the_hold_still_replaces_receiving():
    """VL Điều 10 khoản 1, TTH: receiving counts from a successful verification — the check replaces it."""
    flow = Flow("thua-thien-hue-2022", state="needs_supplement", agencies=())
    flow.announce("supplemented", "submitted")
    flow.announce("operator_check_started")
    assert [k for k, _ in flow.running()] == ["operator_check"]
    assert [d["status"] for d in flow.all("receive")] == ["closed"]


# ---- item 3: SOS and immediate reports are never held for evidence ---------------------------------------------
NOTHING = {"has_media": False, "has_photo_or_video": False, "photo_age_known": False, "photo_age_h": None,
           "has_gps": False}


def test_tth_an_sos_without_photo_or_gps_is_accepted_with_the_supplement_asked_beside():
    """[P12]: before, `needs_supplement [MISSING_MEDIA, MISSING_LOCATION]` and never dispatched."""
    pack = get_pack("thua-thien-hue-2022")
    result = pack.evaluate("acceptance", {**NOTHING, "sos": True, "urgent": True, "category": "fire_rescue"})
    assert result["decision"] == "accepted" and result["reasons"] == [] and result["pending_checks"] == []
    assert result["at_once"] == {"rule": "tth-acc-sos", "article": "Điều 18"}
    beside = {w["code"]: w for w in result["warnings"]}
    assert set(beside) == {"MISSING_MEDIA", "MISSING_LOCATION"}
    assert all(w["status"] == "beside" and w["action"] == "request_supplement" and w["message"]
               for w in beside.values())
    # the same report without the SOS button waits for the supplement, as the seed's ordinary procedure says
    assert pack.evaluate("acceptance", {**NOTHING, "category": "roads_traffic"})["decision"] == "needs_supplement"


def test_an_immediate_report_is_not_held_for_the_operators_check_nor_the_identity_check():
    pack = get_pack("vinh-long-2025")
    facts = {"immediate": True, "category": "fire_rescue", "photo_age_known": False, "photo_age_h": None,
             "first_time_reporter": True, "identity_status": "unverified"}
    result = pack.evaluate("acceptance", facts)
    assert result["decision"] == "accepted" and result["pending_checks"] == []
    assert [w["status"] for w in result["warnings"] if w.get("check")] == ["beside"]
    assert not needs_identity_check(pack, facts, result)
    assert needs_identity_check(pack, facts, dict(result, at_once=None))     # an ordinary report waits for it


def test_rejections_still_apply_to_an_emergency():
    result = get_pack("thua-thien-hue-2022").evaluate("acceptance", {**NOTHING, "sos": True,
                                                                     "account_locked": True})
    assert result["decision"] == "rejected" and [r["code"] for r in result["reasons"]] == ["ACCOUNT_LOCKED"]
    assert result["warnings"] == []


@pytest.mark.parametrize("pack, category, urgent, immediate", [
    ("thua-thien-hue-2022", "fire_rescue", False, True),
    ("thua-thien-hue-2022", "roads_traffic", False, False),
    ("soc-trang-2022", "roads_traffic", True, True),          # an urgent accident (Điều 13)
    ("soc-trang-2023", "security_order", False, True),
    ("tay-ninh-2024", "fire_rescue", True, False),            # TN has no immediate procedure
])
def test_immediate_is_what_the_packs_routing_would_do(pack, category, urgent, immediate):
    facts = {"category": category, "urgent": urgent, "ward_found": False, "ward_code": "", "inside_province": True}
    assert routed_immediately(get_pack(pack), {"id": "PA-1", "route": {}}, facts) is immediate


def test_st23_urgent_processing_has_no_system_deadline_but_the_04_gio_update_stays():
    pack = get_pack("soc-trang-2023")
    process = pack.evaluate("sla", {"step": "process", "urgent": True})
    assert (process["decision"], process["rule"]) == ("no_deadline", "st23-sla-immediate-process")
    update = pack.evaluate("sla", {"step": "approve", "urgent": True})
    assert (update["amount"], update["unit"], update["rule"]) == (4, "h", "st23-sla-immediate-approve")
    assert pack.evaluate("sla", {"step": "process"})["rule"] == "st23-sla-process"


# ---- item 4: "còn trong thời hạn xử lý" ------------------------------------------------------------------------
def process(status="open", due=MON + timedelta(days=8), opened=MON, **more):
    return {"step": "process", "status": status, "due": due, "opened_at": opened, "rule": "r", "article": "a", **more}


def test_within_the_processing_deadline():
    assert within_processing_deadline([], MON)["within"]                                  # not acknowledged yet
    assert within_processing_deadline([process()], MON + timedelta(days=1))["within"]
    assert not within_processing_deadline([process()], MON + timedelta(days=9))["within"]   # overdue, not swept
    assert not within_processing_deadline([process("missed")], MON + timedelta(days=1))["within"]
    done = process("closed", closed_at=MON + timedelta(days=2))
    assert within_processing_deadline([done], MON + timedelta(days=20))["within"]        # result in time, awaiting
    late = process("closed", closed_at=MON + timedelta(days=9))
    assert not within_processing_deadline([late], MON + timedelta(days=10))["within"]
    again = process(opened=MON + timedelta(days=12), due=MON + timedelta(days=20))      # reprocessing: the newest
    assert within_processing_deadline([process("missed"), again], MON + timedelta(days=13))["within"]
    assert within_processing_deadline([process("replaced")], MON + timedelta(days=30))["within"]


def test_the_sla_service_answers_from_its_own_deadlines():
    flow = Flow("thua-thien-hue-2022")
    flow.announce("routed", "dispatched")
    flow.announce("acknowledged", "in_progress")
    due = flow.one("process")["due"]
    assert flow.service.processing_deadlines(["PA-1", "PA-X"]) == {
        "PA-1": {"within": True, "due": due.isoformat(), "rule": "tth-sla-process", "article": "Điều 11 khoản 2"},
        "PA-X": {"within": True, "due": None, "rule": None, "article": None}}
    flow.at(due + timedelta(minutes=1))
    flow.service.sweep()
    assert flow.service.processing_deadlines(["PA-1"])["PA-1"]["within"] is False


def test_an_overdue_earlier_report_no_longer_blocks(tmp_path):
    index = EvidenceStore(open_database("verification", f"embedded://{tmp_path}")).index
    index.add("R1", "phone:1", [], "Ổ gà đường Lê Lợi", "roads_traffic", 16.46, 107.59, MON + timedelta(days=60),
              "in_progress")
    index.add("R2", "phone:1", [], "Ổ gà đường Lê Lợi", "roads_traffic", 16.46, 107.59, MON + timedelta(days=60),
              "in_progress")
    asked = []

    def within(ids):
        asked.append(list(ids))
        return {"R2"}
    assert index.open_same_matter("phone:1", "roads_traffic", 16.46, 107.59, "x", MON, within=within) == "R2"
    assert asked == [["R1", "R2"]]
    assert index.open_same_matter("phone:1", "roads_traffic", 16.46, 107.59, "x", MON,
                                  within=lambda ids: set()) is None
    assert index.open_same_matter("phone:1", "trees_parks", 16.46, 107.59, "x", MON,
                                  within=lambda ids: 1 / 0) is None                   # no candidate: nothing asked


# ---- item 11: the description's language (every pack's language article) --------------------------------------
@pytest.mark.parametrize("text, vietnamese, marked, unicode", [
    ("Ổ gà lớn giữa đường Lê Lợi, xe máy dễ té ngã", 1.0, 0.917, True),
    ("O ga lon giua duong Le Loi, xe may de te nga", 1.0, 0.0, True),          # Vietnamese without accents
    ("Street light broken", 0.0, 0.0, True),
    ("Nước ngập sâu khoảng 50cm, 30°C", 1.0, 1.0, True),                      # numbers and units are no words
    ("Ñöôøng bò ngaäp", 0.333, 0.667, False),                                 # VNI read as Unicode
    ("§−êng bÞ ngËp n−íc", 0.5, 0.5, False),                                  # TCVN3 (ABC) read as Unicode
    ("Đường bị ngập", 1.0, 1.0, True),                                        # decomposed (NFD) is Unicode too
    ("Ơ̷̢̂̉ ̶g̴̡à̸ ̷l̵ớ̴n̶̨ ở đường Lý Thường Kiệt", 1.0, 1.0, True),                 # Zalgo decorations dropped
    ("%s%s%s%n {0} {__class__} %(x)s ngập nước đường Nguyễn Huệ", 0.833, 0.833, True),   # codes are no words
    ('{"$gt": ""}', 1.0, 1.0, True),                                          # under three words: no finding
    ("", 1.0, 1.0, True),
])
def test_language_facts(text, vietnamese, marked, unicode):
    import unicodedata

    from paht.language import language_facts
    if text == "Đường bị ngập":
        text = unicodedata.normalize("NFD", text)
    assert language_facts(text) == {"vietnamese_words_rate": vietnamese, "marked_words_rate": marked,
                                    "unicode_text": unicode}


def test_the_operator_cannot_reject_where_the_seed_gives_no_ground():
    from services.verification.judgements import judgement_decision, rejectable

    class Store:
        judged = []

        def judge(self, *args):
            self.judged.append(args)
    assert rejectable("soc-trang-2022", "not_vietnamese") and not rejectable("tay-ninh-2024", "not_vietnamese")
    report = {"id": "PA-1", "pack": "tay-ninh-2024", "state": "submitted"}
    operator = {"role": "operator", "name": "op"}
    refused = judgement_decision(Store(), report, operator, {"value": {"name": "not_vietnamese", "value": "rejected"}},
                                 MON)
    assert refused["error"]["code"] == "VALIDATION_FAILED" and "value" in refused["error"]["fields"]
    assert Store.judged == []
    confirmed = judgement_decision(Store(), report, operator,
                                   {"value": {"name": "not_vietnamese", "value": "confirmed"}}, MON)
    assert confirmed["decision"]["to_state"] == "submitted"


def test_the_dispatched_notice_asks_beside_for_what_an_emergency_lacks():
    from services.publishing import notifications as n
    from tests.unit.test_notifications import CONTACT, full_context
    from tests.unit.test_notifications import announced as change
    pack = get_pack("thua-thien-hue-2022")
    assert "quy trình khẩn cấp" not in n.render(pack, "dispatched", full_context(pack, "dispatched")).body
    result = pack.evaluate("acceptance", {**NOTHING, "sos": True, "urgent": True})
    routed = change("routed", "accepted", "dispatched", warnings=result["warnings"],
                    assigned_agencies=[{"id": "cong-an", "name": "Công an", "role": "lead"}])
    context = n.context_for(n.Notice("dispatched"), routed, pack, CONTACT)
    assert [w["code"] for w in context["beside"]] == ["MISSING_MEDIA", "MISSING_LOCATION"]
    body = n.render(pack, "dispatched", context).body
    assert "quy trình khẩn cấp, không chờ bổ sung" in body
    assert all(w["message"] in body for w in context["beside"])
