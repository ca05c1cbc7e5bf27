from datetime import datetime, timezone

import pytest

from paht.schemas import Decision, ReportIn
from paht.states import TERMINAL, TRANSITIONS, IllegalTransition, allowed, plan
from services.intake.reports import new_report, snapshot
from services.intake.views import public_view

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def report(state="submitted", **extra):
    doc = new_report(ReportIn(pack="thua-thien-hue-2022", description="Ổ gà lớn trên đường Lê Lợi",
                              reporter={"name": "An", "phone": "0905123456", "email": "an@example.vn"}),
                     [], NOW, "PA-1", "token")
    doc["state"] = state
    doc.update(extra)
    return doc


def decision(to_state, **kw):
    return Decision(report_id="PA-1", occurred_at=NOW, pack="thua-thien-hue-2022", kind=kw.pop("kind", "x"),
                    source=kw.pop("source", "verification"), to_state=to_state, **kw)


def test_terminal_states_have_no_way_out():
    for state in TERMINAL:
        assert TRANSITIONS[state] == frozenset()


def test_every_target_is_a_known_state():
    for targets in TRANSITIONS.values():
        assert targets <= set(TRANSITIONS)


def test_plan_sets_state_and_appends_timeline_and_event_id():
    update = plan(report(), decision("accepted", patch={"reasons": []}))
    assert update["$set"]["state"] == "accepted"
    assert update["$push"]["timeline"]["from"] == "submitted"
    assert update["$push"]["timeline"]["to"] == "accepted"
    assert update["$inc"] == {"version": 1}


def test_an_applied_event_is_ignored():
    d = decision("accepted")
    assert plan(report(applied_events=[d.event_id]), d) is None


def test_illegal_transition_is_refused():
    with pytest.raises(IllegalTransition):
        plan(report("submitted"), decision("published"))
    with pytest.raises(IllegalTransition):
        plan(report("published"), decision("in_progress"))


def test_guard_on_expected_states():
    with pytest.raises(IllegalTransition):
        plan(report("accepted"), decision("rejected", from_states=["submitted"]))


def test_services_may_not_patch_reporter_data():
    with pytest.raises(IllegalTransition):
        plan(report(), decision("accepted", patch={"reporter": {}}))
    update = plan(report("needs_supplement"), decision("submitted", source="intake", patch={"reporter": {"name": "B"}}))
    assert update["$set"]["reporter"] == {"name": "B"}


def test_publication_only_after_approval():
    assert allowed("approved", "published")
    for state in set(TRANSITIONS) - {"approved"}:
        assert not allowed(state, "published")


def test_public_view_never_shows_reporter_data():
    view = public_view(report())
    text = repr(view)
    assert "0905123456" not in text and "an@example.vn" not in text
    assert "reporter" not in view
    assert "tracking_token_hash" not in snapshot(report())


def test_public_timeline_shows_state_changes_only():
    doc = report()
    doc["timeline"].append({"at": NOW, "kind": "deadline_opened", "from": "submitted", "to": "submitted"})
    assert [e["kind"] for e in public_view(doc)["timeline"]] == ["submitted"]
