"""Whatever order of allowed actions: an open report always has a lead agency, and nothing is published
without approval (issue 5). Pure functions: the handling actions, routing and the state machine."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from paht.rules import get_pack
from paht.schemas import ReportIn
from paht.states import IllegalTransition, plan
from services.handling.actions import Refused, decide
from services.intake.reports import new_report
from services.publishing.letters import publication_decision
from services.routing.route import routing_decision, routing_facts

PACK = get_pack("thua-thien-hue-2022")
START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
OPEN = {"dispatched", "in_progress", "result_submitted", "approved"}
AGENCIES = ["so-xay-dung", "cap-nuoc", "dien-luc", "ubnd-19753"]
ACTIONS = ["acknowledge", "return", "forward", "submit_result", "approve", "send_back", "rework", "publish",
           "designate", "request_info"]


def apply(doc: dict, decision) -> dict:
    update = plan(doc, decision)
    doc = dict(doc)
    doc.update(update["$set"])
    doc["applied_events"] = doc["applied_events"] + [decision.event_id]
    doc["timeline"] = doc["timeline"] + [update["$push"]["timeline"]]
    return doc


def snapshot(doc):
    return {"id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}


def route(doc: dict, n: int) -> dict:
    result = PACK.evaluate("routing", routing_facts(doc))
    return apply(doc, routing_decision(snapshot(doc), PACK, result, f"route{n}", START))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from(["staff", "leader", "operator"]),
                          st.sampled_from(AGENCIES)), max_size=25))
def test_open_reports_always_have_a_lead_and_publication_needs_approval(steps):
    doc = new_report(ReportIn(pack=PACK.id, description="Ổ gà", category="roads_traffic"), [], START, "R", "t")
    doc.update(state="accepted", ward={"code": "19753", "name": "Phú Xuân"})
    doc = route(doc, 0)
    for n, (action, who, agency) in enumerate(steps, 1):
        lead = next((a["id"] for a in doc["assigned_agencies"] if a["role"] == "lead"), None)
        actor = {"operator": {"role": "operator"}, "staff": {"role": "agency_staff", "agency": lead},
                 "leader": {"role": "agency_leader", "agency": lead}}[who]
        body = {"agency": agency, "agencies": [agency], "result_text": "Đã xử lý", "kind": "content",
                "note": "x", "question": "?", "after_photos": ["ab" * 32]}
        now = START + timedelta(minutes=n)
        try:
            if action == "publish":
                if who != "operator" or doc["state"] != "approved":
                    continue
                decision = publication_decision(snapshot(doc), PACK, now, f"e{n}", actor)
            else:
                decision = decide(snapshot(doc), action, actor, body, PACK, now, f"e{n}")
            doc = apply(doc, decision)
        except (Refused, IllegalTransition):
            continue
        if doc["state"] == "accepted":        # a return goes back to routing
            doc = route(doc, n)
        if doc["state"] in OPEN:
            assert any(a["role"] == "lead" for a in doc["assigned_agencies"]), doc["timeline"][-1]
        if doc["state"] in ("published", "delivered_privately"):
            assert doc["timeline"][-2]["to"] == "approved" or doc["timeline"][-1]["from"] == "approved"
            assert any(step["to"] == "approved" for step in doc["timeline"])
