"""The sla service with nameko's worker_factory (no broker), issue 11: every step a pack times is opened by code —
multi-agency steps charged to each co-agency, the lead's processing per the multi-agency rule, interactions,
rework by kind, designation and agreement, clarification, reprocessing, requests for information."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import worker_factory

from paht import clock, storage
from paht.clock import FixedClock
from paht.schemas import Transitioned
from services.sla.deadlines import agency_lateness
from services.sla.dependencies import DeadlineStore
from services.sla.service import SlaService

pytestmark = pytest.mark.calendar   # run from every start instant (tests/start_instants.py)

VN = timezone(timedelta(hours=7))
MON = datetime(2026, 11, 23, 9, 0, tzinfo=VN)      # a working Monday (Tuesday 24/11 is a day off)


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_clock(FixedClock(MON))
    yield
    clock.set_clock(None)


class Flow:
    """One report's announcements to the sla service, with its version counted up like intake does."""

    def __init__(self, pack, state="accepted", agencies=(("so-xay-dung", "lead"),), **fields):
        self.store = DeadlineStore(storage.open_database("sla", "memory://"))
        self.service = worker_factory(SlaService, deadlines=self.store)
        self.service.handling.history.return_value = []
        self.report = {"id": "PA-1", "pack": pack, "state": state, "urgent": False, "version": 0, "route": {},
                       "assigned_agencies": [{"id": a, "role": r} for a, r in agencies], **fields}
        self.n = 0

    def at(self, when):
        clock.set_clock(FixedClock(when))
        return when

    def announce(self, cause, to_state=None, at=None, event_id=None, **changes):
        self.n += 1
        from_state = self.report["state"]
        self.report = dict(self.report, **changes, state=to_state or from_state, version=self.report["version"] + 1)
        event_id = event_id or f"ev{self.n}-{cause}"
        payload = Transitioned(event_id=event_id, report_id="PA-1", occurred_at=at or clock.now(),
                               pack=self.report["pack"], cause=cause, from_state=from_state,
                               to_state=self.report["state"], report=self.report).model_dump(mode="json")
        self.service.on_report(payload)
        return event_id

    def running(self):
        return sorted((d["key"], d["agency"]) for d in self.store.open_for("PA-1") if d["status"] == "open")

    def one(self, key):
        found = [d for d in self.store.open_for("PA-1") if d["key"] == key]
        assert len(found) == 1, (key, self.running())
        return found[0]

    def all(self, step):
        return self.store.for_report("PA-1", step)

    def sent(self, kind):
        self.service.tell_intake()
        return [d for call in self.service.dispatch.call_args_list for d in call.args[1].get("batch", [call.args[1]])
                if d["kind"] == kind]


def co_parts(**approved):
    return {"contributions": {agency: {"text": "x", "approved": ok} for agency, ok in approved.items()}}


MULTI = (("so-xay-dung", "lead"), ("ubnd-31120", "co"), ("dien-luc", "co"))


def test_st22_two_co_agencies_each_charged_for_its_own_lateness():
    flow = Flow("soc-trang-2022", agencies=MULTI)
    flow.announce("routed", "dispatched")
    assert flow.running() == [("acknowledge", "so-xay-dung")]
    flow.announce("acknowledged", "in_progress", at=flow.at(MON + timedelta(hours=1)))
    # Điều 10 khoản 2 điểm b: the lead forwards to its co-agencies within 4 hours
    assert flow.running() == [("forward", "so-xay-dung"), ("process", "so-xay-dung")]
    assert flow.one("forward")["due"] == MON + timedelta(hours=5)
    flow.announce("forwarded", at=flow.at(MON + timedelta(hours=2)))
    # ... and then has no 6-day processing deadline of its own: each co-agency has its own
    assert flow.running() == [("co_process:dien-luc", "dien-luc"), ("co_process:ubnd-31120", "ubnd-31120")]
    assert flow.all("forward")[0]["status"] == "closed"                       # forwarded in time
    assert [d["status"] for d in flow.all("process")] == ["replaced"]
    due = flow.one("co_process:dien-luc")["due"]
    assert due == datetime(2026, 12, 2, 11, 0, tzinfo=VN)                     # 6 wd, 24/11 off
    part_a = co_parts(**{"ubnd-31120": True})
    flow.announce("co_result_approved", at=flow.at(MON + timedelta(days=2)), result=part_a)
    assert flow.running() == [("co_process:dien-luc", "dien-luc")]            # no compilation before every part

    flow.at(due + timedelta(minutes=1))
    flow.service.sweep()                                                      # dien-luc's part is late
    late = [d for d in flow.all("co_process") if d["status"] == "missed"]
    assert [d["agency"] for d in late] == ["dien-luc"]
    cards, listed = agency_lateness(flow.all("co_process") + flow.all("forward"), MON, MON + timedelta(days=30))
    assert cards["dien-luc"]["late_count"] == 1
    assert cards["ubnd-31120"]["late_count"] == 0 and cards["so-xay-dung"]["late_count"] == 0   # E9
    assert [item["agency"] for item in listed] == ["dien-luc"]

    both = co_parts(**{"ubnd-31120": True, "dien-luc": True})
    flow.announce("co_result_approved", at=flow.at(due + timedelta(hours=2)), result=both)
    assert flow.running() == [("compile", "so-xay-dung")]                     # every part in: the lead compiles
    assert flow.one("compile")["amount"] == 2 and flow.one("compile")["unit"] == "wd"
    flow.announce("result_submitted", "result_submitted", at=flow.at(due + timedelta(hours=3)))
    assert flow.running() == [("approve", "so-xay-dung")]
    assert [d["status"] for d in flow.all("compile")] == ["closed"]


def test_st22_a_late_co_agency_return_counts_against_it_and_the_lead_gets_back_its_own_deadline():
    flow = Flow("soc-trang-2022", agencies=(("so-xay-dung", "lead"), ("dien-luc", "co")))
    flow.announce("routed", "dispatched")
    flow.announce("acknowledged", "in_progress")
    flow.announce("forwarded")
    assert flow.running() == [("co_process:dien-luc", "dien-luc")]
    # two working days later it sends the report back to the lead: not its matter, but after 01 ngày làm việc
    flow.announce("co_returned", at=flow.at(datetime(2026, 11, 26, 9, 0, tzinfo=VN)),
                  assigned_agencies=[{"id": "so-xay-dung", "role": "lead"}])
    judged = flow.all("co_return")
    assert [(d["agency"], d["status"], d["rule"]) for d in judged] == [("dien-luc", "missed", "st22-sla-co-return")]
    assert flow.sent("deadline_missed")[-1]["detail"]["agency"] == "dien-luc"
    # the lead is on its own again: the single-agency 6 wd, counted from when it began processing
    assert flow.running() == [("process", "so-xay-dung")]
    assert flow.one("process")["due"] == datetime(2026, 12, 2, 9, 0, tzinfo=VN)


def test_st22_forwarding_a_single_agency_report_replaces_the_leads_deadline():
    flow = Flow("soc-trang-2022")
    flow.announce("routed", "dispatched")
    flow.announce("acknowledged", "in_progress")
    assert flow.running() == [("process", "so-xay-dung")]
    flow.announce("forwarded", assigned_agencies=[{"id": "so-xay-dung", "role": "lead"},
                                                  {"id": "dien-luc", "role": "co"}])
    assert flow.running() == [("co_process:dien-luc", "dien-luc")]
    assert [d["status"] for d in flow.all("process")] == ["replaced"]   # neither met nor missed
    cards, _ = agency_lateness(flow.all("process"), MON, MON + timedelta(days=1))
    assert cards["so-xay-dung"]["on_time"] == 0


def test_tth_multi_agency_has_no_timing_of_its_own_the_lead_keeps_6_working_days():
    flow = Flow("thua-thien-hue-2022", agencies=(("so-xay-dung", "lead"), ("ubnd-19753", "co")))
    flow.announce("routed", "dispatched")
    flow.announce("acknowledged", "in_progress")
    assert flow.running() == [("process", "so-xay-dung")]
    flow.announce("forwarded")
    assert flow.running() == [("process", "so-xay-dung")]
    assert [d["status"] for d in flow.all("process")] == ["open"]


def test_tth_each_interaction_has_its_reply_deadline_closed_by_the_reply_to_it():
    flow = Flow("thua-thien-hue-2022", state="published")
    first = flow.announce("interaction", interactions_open=True)
    second = flow.announce("interaction", at=flow.at(MON + timedelta(hours=2)))
    assert flow.running() == [(f"interaction_reply:{first}", "so-xay-dung"),
                              (f"interaction_reply:{second}", "so-xay-dung")]
    assert flow.one(f"interaction_reply:{first}")["due"] == MON + timedelta(days=1)   # Điều 13 khoản 3: 01 ngày
    opened = flow.sent("deadline_opened")[0]
    assert f"deadlines.interaction_reply:{first}" in opened["patch"]
    flow.service.handling.history.return_value = [
        {"_id": "ev-reply", "action": "reply", "detail": {"interaction_id": second, "note": "Đã làm rõ"}}]
    flow.announce("interaction_replied", event_id="ev-reply")
    assert flow.running() == [(f"interaction_reply:{first}", "so-xay-dung")]
    flow.at(MON + timedelta(days=1, minutes=1))
    flow.service.sweep()
    assert [d["subject"] for d in flow.all("interaction_reply") if d["status"] == "missed"] == [first]


def test_st22_interactions_have_no_reply_deadline():
    flow = Flow("soc-trang-2022", state="published")
    flow.announce("interaction")
    assert flow.running() == []


@pytest.mark.parametrize("pack, kind, minutes, rule", [
    ("thua-thien-hue-2022", "format", 30, "tth-sla-rework-format"),
    ("thua-thien-hue-2022", "content", 60, "tth-sla-rework"),
    ("tay-ninh-2024", "format", 30, "tn24-sla-rework-format"),
    ("tay-ninh-2024", "content", 60, "tn24-sla-rework"),
])
def test_rework_deadline_by_kind(pack, kind, minutes, rule):
    flow = Flow(pack, state="approved")
    flow.service.handling.history.return_value = [{"_id": "ev-rework", "detail": {"kind": kind}}]
    flow.announce("rework_requested", "in_progress", event_id="ev-rework")
    deadline = flow.one("rework")
    assert deadline["rule"] == rule and deadline["due"] == MON + timedelta(minutes=minutes)


def test_tth_designated_coordinator_answers_in_a_working_day_and_agrees_before_publication():
    flow = Flow("thua-thien-hue-2022", state="routing_unresolved", agencies=())
    flow.announce("designated", "dispatched", assigned_agencies=[{"id": "so-y-te", "role": "lead"}],
                  route={"designated_agency": "so-y-te", "lead": "so-y-te"})
    assert flow.running() == [("designate", "so-y-te")]               # Điều 16 khoản 2 instead of 30 minutes
    assert flow.one("designate")["due"] == datetime(2026, 11, 25, 9, 0, tzinfo=VN)
    flow.announce("returned", "accepted", at=flow.at(MON + timedelta(hours=3)), assigned_agencies=[],
                  route={"designated_agency": None, "suggested_agency": "so-xay-dung", "returned_by": ["so-y-te"]})
    assert [d["status"] for d in flow.all("designate")] == ["closed"]
    assert flow.all("return") == []                                    # 60 minutes? the designation allows 1 wd
    lead = [{"id": "so-xay-dung", "role": "lead"}]
    flow.announce("routed", "dispatched", assigned_agencies=lead, route={"suggested_agency": "so-xay-dung"})
    flow.announce("acknowledged", "in_progress")
    flow.announce("result_submitted", "result_submitted")
    flow.announce("approved", "approved")
    assert flow.running() == [("agree", "so-y-te")]                    # Điều 16 khoản 4, before the centre's hour
    flow.announce("agreed")
    assert flow.running() == [("publish", "trung-tam")]                 # the centre's step (review F1)
    assert [d["status"] for d in flow.all("agree")] == ["closed"]


def test_tth_designated_agency_that_processes_itself_does_not_agree_with_itself():
    flow = Flow("thua-thien-hue-2022", state="routing_unresolved", agencies=())
    lead = [{"id": "so-y-te", "role": "lead"}]
    flow.announce("designated", "dispatched", assigned_agencies=lead, route={"designated_agency": "so-y-te"})
    flow.announce("acknowledged", "in_progress")
    flow.announce("result_submitted", "result_submitted")
    flow.announce("approved", "approved")
    assert flow.running() == [("publish", "trung-tam")]   # the centre's step (review F1)


def test_st22_designated_lead_has_6_working_days_from_the_designation_to_its_result():
    flow = Flow("soc-trang-2022", state="routing_unresolved", agencies=())
    lead = [{"id": "so-y-te", "role": "lead"}]
    flow.announce("designated", "dispatched", assigned_agencies=lead, route={"designated_agency": "so-y-te"})
    assert flow.running() == [("acknowledge", "so-y-te"), ("designate", "so-y-te")]
    assert flow.one("designate")["due"] == datetime(2026, 12, 2, 9, 0, tzinfo=VN)   # Điều 16 khoản 3
    flow.announce("acknowledged", "in_progress")
    assert flow.running() == [("designate", "so-y-te")]               # no second 6-day processing deadline
    flow.announce("result_submitted", "result_submitted")
    assert flow.running() == [("approve", "so-y-te"), ("designate", "so-y-te")]
    flow.announce("approved", "approved")
    assert flow.running() == [("publish", "trung-tam")]   # the centre's step (review F1)
    assert [d["status"] for d in flow.all("designate")] == ["closed"]


def test_st23_designation_sets_no_time():
    flow = Flow("soc-trang-2023", state="routing_unresolved", agencies=())
    flow.announce("designated", "dispatched", assigned_agencies=[{"id": "so-y-te", "role": "lead"}],
                  route={"designated_agency": "so-y-te"})
    assert [key for key, _ in flow.running()] == []                    # ST-23 times no acknowledgement either


def test_waiting_for_a_designation_is_no_timed_step():
    flow = Flow("soc-trang-2022", agencies=())
    flow.announce("routing_unresolved", "routing_unresolved")
    assert flow.running() == []


def test_tth_dissatisfied_rating_opens_the_clarification_closed_by_the_agency():
    flow = Flow("thua-thien-hue-2022", state="published",
                rating={"level": "khong_hai_long", "counts_as": "unsatisfied", "agency": "so-xay-dung"})
    flow.announce("clarification_requested")
    assert flow.running() == [("clarify", "so-xay-dung")]
    assert flow.one("clarify")["due"] == MON + timedelta(days=1)
    flow.announce("clarified")
    assert flow.running() == []
    assert [d["status"] for d in flow.all("clarify")] == ["closed"]


def test_tn_reprocessing_after_a_dissatisfied_rating_has_a_new_processing_deadline():
    flow = Flow("tay-ninh-2024", state="published")
    flow.announce("reprocess_requested", "in_progress")
    deadline = flow.one("process")
    assert deadline["rule"] == "tn24-sla-process" and deadline["due"] == datetime(2026, 12, 2, 9, 0, tzinfo=VN)


def test_request_for_information_later_than_allowed_counts_against_the_lead():
    flow = Flow("thua-thien-hue-2022")
    flow.announce("routed", "dispatched")
    flow.announce("acknowledged", "in_progress")
    flow.announce("info_requested", at=flow.at(MON + timedelta(hours=20)))      # within 01 ngày: fine
    assert flow.all("request_info") == []
    flow.announce("info_requested", at=flow.at(MON + timedelta(days=2)))        # too late
    judged = flow.all("request_info")
    assert [(d["agency"], d["status"]) for d in judged] == [("so-xay-dung", "missed")]
    assert flow.running() == [("process", "so-xay-dung")]                        # the processing step runs on


def test_a_night_report_dispatches_from_the_opening_in_hue():
    night = datetime(2026, 11, 23, 2, 0, tzinfo=VN)
    flow = Flow("thua-thien-hue-2022", state="submitted", agencies=())
    flow.announce("accepted", "accepted", at=flow.at(night))
    dispatch = flow.one("dispatch")
    assert dispatch["starts_at"] == night.replace(hour=7, minute=30)
    assert dispatch["due"] == night.replace(hour=8, minute=0)


def test_a_late_delivered_forward_does_not_open_steps_for_a_report_that_moved_on():
    flow = Flow("soc-trang-2022", agencies=MULTI)
    flow.announce("routed", "dispatched")
    flow.announce("acknowledged", "in_progress")
    forwarded = dict(flow.report, version=flow.report["version"] + 1)
    flow.report = forwarded                                   # intake applied the forward (its announcement waits)
    flow.announce("result_submitted", "result_submitted")
    flow.announce("approved", "approved")
    # the forward's announcement is handled only now (concurrent workers): the report is approved already
    flow.service.on_report(Transitioned(event_id="ev-late-forward", report_id="PA-1", occurred_at=MON,
                                        pack="soc-trang-2022", cause="forwarded", from_state="in_progress",
                                        to_state="in_progress", report=dict(forwarded, state="in_progress"))
                           .model_dump(mode="json"))
    assert flow.running() == [("publish", "trung-tam")]   # the centre's step (review F1)
