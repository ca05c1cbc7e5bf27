"""Intake's store: decisions applied once, announcements through the outbox, retention, internal calls taken once."""
from datetime import datetime, timedelta, timezone

from paht.schemas import Decision, ReportIn
from paht.storage import open_database
from services.intake.dependencies import ReportStore
from services.intake.reports import new_report

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def stored(pack="tay-ninh-2024", report_id="R1"):
    store = ReportStore(open_database("intake", "memory://"))
    report = new_report(ReportIn(pack=pack, description="Cây đổ", reporter={"name": "An", "phone": "0905123456"}),
                        [], NOW, report_id, "token")
    announced = store.create(report, "e0", NOW).announcement
    return store, announced


def test_creation_is_announced_through_the_outbox_without_the_reporters_details():
    store, announced = stored()
    assert announced.to_state == "submitted" and announced.report["reporter"] == {
        "key": "phone:84905123456", "has": ["name", "phone"], "account_verified": False}
    assert [e["_id"] for e in store.unsent(NOW)] == ["e0"]
    store.mark_sent("e0")
    assert store.unsent(NOW + timedelta(hours=1)) == []


def test_a_decision_is_applied_once():
    store, _ = stored()
    decision = Decision(report_id="R1", occurred_at=NOW, pack="tay-ninh-2024", kind="verified",
                        source="verification", to_state="accepted", from_states=["submitted"])
    applied = store.apply(decision)
    assert applied.announcement.to_state == "accepted" and not applied.silent
    assert applied.report == store.get("R1")           # the report after the change, without reading it again
    assert store.apply(decision) is None
    assert [t["kind"] for t in store.get("R1")["timeline"]] == ["submitted", "verified"]


def test_deadline_bookkeeping_is_applied_but_never_announced():
    store, _ = stored()
    store.mark_sent("e0")
    opened = Decision(report_id="R1", occurred_at=NOW, pack="tay-ninh-2024", kind="deadline_opened", source="sla",
                      patch={"deadlines.receive": {"due": NOW.isoformat()}})
    applied = store.apply(opened)
    assert applied.silent and store.get("R1")["deadlines"]["receive"]["due"] == NOW.isoformat()
    assert store.unsent(NOW + timedelta(hours=1)) == []          # nothing for the outbox to send
    missed_and_rejected = Decision(report_id="R1", occurred_at=NOW, pack="tay-ninh-2024", kind="deadline_missed",
                                   source="sla", to_state="rejected")
    applied = store.apply(missed_and_rejected)
    assert not applied.silent and [e["_id"] for e in store.unsent(NOW)] == [missed_and_rejected.event_id]


def test_retention_purges_personal_data_of_closed_reports_only():
    store, _ = stored()
    store.apply(Decision(report_id="R1", occurred_at=NOW, pack="tay-ninh-2024", kind="verified",
                         source="verification", to_state="rejected"))
    assert store.purge_personal_data("tay-ninh-2024", NOW - timedelta(days=30), NOW) == 0   # closed today
    later = NOW + timedelta(days=31)
    assert store.purge_personal_data("tay-ninh-2024", later - timedelta(days=30), later) == 1
    report = store.get("R1")
    assert report["reporter"] == {} and report["state"] == "rejected" and report["purged_at"] == later
    assert store.purge_personal_data("tay-ninh-2024", later, later) == 0


def test_decisions_about_one_report_are_applied_together_in_order():
    store, _ = stored()
    verified = Decision(report_id="R1", occurred_at=NOW, pack="tay-ninh-2024", kind="verified",
                        source="verification", to_state="accepted", from_states=["submitted"])
    closed = Decision(report_id="R1", occurred_at=NOW, pack="tay-ninh-2024", kind="deadline_closed", source="sla",
                      patch={"deadlines.receive": {"closed": True}})
    wrong = Decision(report_id="R1", occurred_at=NOW, pack="tay-ninh-2024", kind="routed", source="routing",
                     to_state="dispatched", from_states=["submitted"])
    applied, refused = store.apply_all([verified, closed, wrong, verified])
    assert [change.announcement.cause for change in applied] == ["verified", "deadline_closed"]
    assert [(c.announcement.from_state, c.silent) for c in applied] == [("submitted", False), ("accepted", True)]
    assert [decision.kind for decision, _ in refused] == ["routed"]
    report = store.get("R1")
    assert report["state"] == "accepted" and report["version"] == 2 and report["deadlines"]["receive"]["closed"]
    assert applied[-1].report == report and applied[0].announcement.report["state"] == "accepted"
    assert store.apply_all([verified, closed]) == ([], [])        # a redelivered batch changes nothing


def test_an_internal_assertions_nonce_is_taken_once_until_it_expires_then_forgotten():
    store, _ = stored()
    kept_until = NOW + timedelta(minutes=5)
    assert store.take_nonce("n1", NOW, kept_until)
    assert not store.take_nonce("n1", NOW + timedelta(minutes=4), kept_until)        # the same call again: refused
    later = NOW + timedelta(minutes=6)
    assert store.take_nonce("n1", later, later + timedelta(minutes=5))              # expired: free again
    assert store.take_nonce("n2", NOW, kept_until)
    assert store.forget_nonces(NOW + timedelta(minutes=10)) == 1     # "n2" expired; "n1" is kept until later
    assert store.nonces.find_one({"_id": "n1"}) is not None
