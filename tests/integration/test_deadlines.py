"""Deadlines are documents in the store: a stopped sla service fires what fell due when it starts, once (issue 6)."""
from __future__ import annotations

from datetime import datetime

import pytest

from paht import accounts, clock
from tests.integration.test_walking_route import fresh_photo, good_report

pytestmark = [pytest.mark.integration, pytest.mark.calendar]


def internal(system, report_id):
    return system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()


def test_deadlines_missed_while_sla_was_down_fire_exactly_once(system):
    system.start()
    waiting = system.submit(good_report(location=None)).json()["id"]
    dispatched = system.submit(good_report(), [fresh_photo()]).json()["id"]
    system.wait_for(waiting, lambda v: any(d["step"] == "supplement" for d in v["deadlines"]), what="supplement")
    system.wait_for(dispatched, lambda v: any(d["step"] == "acknowledge" for d in v["deadlines"]), what="ack")

    system.stop("sla")
    system.advance(3 * 86400)            # both deadlines fall due while nobody is sweeping
    restarted = clock.now()
    system.start("sla")

    rejected = system.wait_state(waiting, "rejected")
    assert [r["code"] for r in rejected["reasons"]] == ["SUPPLEMENT_TIMEOUT"]
    late = system.wait_for(dispatched, lambda v: v["late"], what="late acknowledge")
    assert [d["step"] for d in late["deadlines"] if d["late"]] == ["acknowledge"]
    # nothing fired them while sla was down: each report's history shows its state unchanged until the sla
    # service, started again, found them due (a decision's time is when its sweep looked)
    for report_id, state in ((waiting, "needs_supplement"), (dispatched, "dispatched")):
        timeline = internal(system, report_id)["timeline"]
        earlier = [step for step in timeline if datetime.fromisoformat(step["at"]) < restarted]
        assert earlier[-1]["to"] == state, earlier
        changed = [step for step in timeline if step["to"] != step["from"]]
        assert changed[-1]["to"] != "rejected" or (changed[-1]["kind"], changed[-1]["source"]) == \
            ("deadline_missed", "sla"), changed[-1]
        missed = [step for step in timeline if step["kind"] == "deadline_missed"]
        assert missed and all(step["source"] == "sla" and datetime.fromisoformat(step["at"]) >= restarted
                              for step in missed), missed

    # several sweeps later, still once: two more of sla's rounds (one at a time, each counted when it ends, the
    # second begun after this snapshot) fired no deadline again (sla counts a missed one when it decides it)
    swept = system.metrics("sla")
    system.wait_metric("sla", "paht_entrypoint_duration_seconds_count", 2, swept, "two more sweeps",
                       service="sla", entrypoint="tick", type="timer")
    assert system.metric("sla", "paht_deadlines_missed_total", swept) == 0
    for report_id in (waiting, dispatched):
        kinds = [step["kind"] for step in internal(system, report_id)["timeline"]]
        assert kinds.count("deadline_missed") == 1, kinds


def test_first_time_reporter_identity_check_confirmed_or_timed_out(system):
    system.start()
    walk_in = {"name": "Trần Thị Bình", "phone": "0914000111", "email": "binh@example.vn"}   # no app account
    checked = system.submit(good_report(reporter=walk_in), [fresh_photo(seed=11)]).json()["id"]
    view = system.wait_for(checked, lambda v: any(d["step"] == "identity_check" for d in v["deadlines"]),
                           what="identity check")
    assert view["state"] == "submitted"
    answer = system.staff(checked, "judge", system.tokens["operator"], value={"name": "identity", "value": "confirmed"})
    assert answer.status_code == 200, answer.text
    system.wait_state(checked, "dispatched")

    other = {"name": "Lê Văn Cường", "phone": "0914000222", "email": "cuong@example.vn"}
    waiting = system.submit(good_report(reporter=other, description="Đèn đường hỏng"),
                            [fresh_photo(seed=12)]).json()["id"]
    system.wait_for(waiting, lambda v: any(d["step"] == "identity_check" for d in v["deadlines"]),
                    what="identity check")
    system.advance(3 * 86400)
    view = system.wait_state(waiting, "rejected")
    assert [r["code"] for r in view["reasons"]] == ["IDENTITY_TIMEOUT"]


def test_abusive_reporter_is_locked_by_the_packs_penalty_rule(system):
    system.start()
    rude = {"name": "X", "phone": "0914999888", "email": "x@example.vn", "account_id": "rude-1",
            "account_proof": accounts.proof("rude-1")}
    ids = []
    for n in range(5):
        answer = system.submit(good_report(reporter=rude, description=f"Đường hư như lồn, vcl lần {n}",
                                           category="roads_traffic"), [fresh_photo(seed=100 + n)])
        ids.append(answer.json()["id"])
        system.wait_for(ids[-1], lambda v: v["state"] != "submitted", what="verified")
    last = system.get(ids[-1])
    assert last["state"] == "rejected" and "ACCOUNT_LOCKED" in [r["code"] for r in last["reasons"]]
    warnings = system.staff_get(f"reports/{ids[0]}", system.tokens["operator"]).json()["warnings"]
    assert any(w["code"] == "PROHIBITED_CONTENT" for w in warnings)
