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


def open_deadline(store, report_id: str, step: str, due: datetime, **more) -> None:
    store.apply(Decision(report_id=report_id, occurred_at=NOW, pack="tay-ninh-2024", kind="deadline_opened",
                         source="sla", patch={f"deadlines.{step}": {"step": step, "due": due.isoformat(),
                                                                    "opened_at": NOW.isoformat(), **more}}))


def test_the_queue_is_read_in_the_stores_order_of_the_kept_next_due():
    """`next_due` (the earliest open deadline, as lists.next_due reads it) is kept with every change, so the store
    sorts the queue and stops at its limit: dated reports first, then the rest newest first."""
    store = ReportStore(open_database("intake", "memory://"))
    for number in range(5):
        report = new_report(ReportIn(pack="tay-ninh-2024", description="Cây đổ", reporter={"name": "An"}), [],
                            NOW + timedelta(minutes=number), f"R{number}", "token")
        store.create(report, f"e{number}", NOW)
    assert store.get("R0")["next_due"] is None
    open_deadline(store, "R1", "receive", NOW + timedelta(hours=5))
    open_deadline(store, "R2", "receive", NOW + timedelta(hours=3))
    open_deadline(store, "R3", "receive", NOW + timedelta(hours=9))
    open_deadline(store, "R3", "process", NOW + timedelta(hours=1), closed_at=NOW.isoformat())   # closed: not it
    assert store.get("R2")["next_due"] == NOW + timedelta(hours=3)
    assert [r["_id"] for r in store.by_next_due({"pack": "tay-ninh-2024"}, False, 10)] == [
        "R2", "R1", "R3", "R4", "R0"]
    assert [r["_id"] for r in store.by_next_due({"pack": "tay-ninh-2024"}, True, 4)] == ["R3", "R1", "R2", "R4"]
    assert [r["_id"] for r in store.by_next_due({"pack": "tay-ninh-2024"}, False, 2)] == ["R2", "R1"]
    store.apply(Decision(report_id="R2", occurred_at=NOW, pack="tay-ninh-2024", kind="deadline_met", source="sla",
                         patch={"deadlines.receive.closed_at": NOW.isoformat()}))
    assert store.get("R2")["next_due"] is None
    assert [r["_id"] for r in store.by_next_due({"pack": "tay-ninh-2024"}, False, 3)] == ["R1", "R3", "R4"]


def test_reports_stored_before_next_due_was_kept_get_it_once():
    store = ReportStore(open_database("intake", "memory://"))
    report = new_report(ReportIn(pack="tay-ninh-2024", description="Cây đổ", reporter={"name": "An"}), [], NOW,
                        "R1", "token")
    store.create(report, "e1", NOW)
    open_deadline(store, "R1", "receive", NOW + timedelta(hours=5))
    store.reports.update_one({"_id": "R1"}, {"$unset": {"next_due": ""}})
    store.meta.delete_one({"_id": "next_due"})
    store.keep_next_due()   # as when intake opens a store of an earlier version
    assert store.get("R1")["next_due"] == NOW + timedelta(hours=5)


def test_a_packs_follow_ups_are_found_by_the_index_without_reading_its_other_reports():
    """The scorecards' follow-ups (ReportStore.followers): each report filed as a follow-up of an earlier one in the
    pack up to `end`, with what counted_follow_ups reads; the embedded store finds them by (pack, follows), not by
    reading every report of the pack (issue 22: a year of reports decoded on every scorecard)."""
    first = "PA-261123-0000000A"
    store, _ = stored(report_id=first)
    for number, (pack, follows, day) in enumerate([("tay-ninh-2024", None, 1), ("tay-ninh-2024", first, 2),
                                                   ("tay-ninh-2024", first, 9), ("vinh-long-2025", first, 2)], 2):
        report = new_report(ReportIn(pack=pack, description="Cây đổ", follows=follows,
                                     reporter={"phone": "0905123456"}), [], NOW + timedelta(days=day),
                            f"R{number}", f"t{number}")
        store.create(report, f"e{number}", NOW + timedelta(days=day))
    found = store.followers("tay-ninh-2024", NOW + timedelta(days=5))
    assert [(f["_id"], f["follows"]) for f in found] == [("R3", first)]
    assert set(found[0]) == {"_id", "follows", "submitted_at", "reporter", "state", "timeline"}
    reports = store.reports
    where, params = reports._exact({"pack": "tay-ninh-2024", "follows": {"$gt": ""},
                                    "submitted_at": {"$lt": NOW}})
    plan = " ".join(row[3] for row in reports.database.conn.execute(
        f'EXPLAIN QUERY PLAN SELECT id FROM "{reports._table}"{where}', params))
    assert "ix_c_reports_pack_follows" in plan


def test_the_same_counters_asked_while_they_are_counted_are_counted_once(monkeypatch):
    """intake's agency_counters (issue 22): a caller that gave up after its timeout and asks again, or a second page,
    gets the count under way instead of counting a year of reports beside it; a new ask afterwards counts again, and
    a failed count fails every caller that waited for it."""
    import eventlet
    from nameko.testing.services import worker_factory

    from services.intake.service import COUNTING, IntakeService
    store, _ = stored(pack="thua-thien-hue-2022")
    reads = []
    accountable = store.accountable

    def slow(queries, projection=None):
        reads.append(projection)
        eventlet.sleep(0.05)
        return accountable(queries, projection)
    monkeypatch.setattr(store, "accountable", slow)
    intake = worker_factory(IntakeService, store=store)
    ask = ("thua-thien-hue-2022", (NOW - timedelta(days=30)).isoformat(), (NOW + timedelta(days=1)).isoformat())
    asked = [eventlet.spawn(intake.agency_counters, *ask) for _ in range(3)]
    answers = [thread.wait() for thread in asked]
    once = len(reads)          # the reports that count, and those with a missed call (TTH Điều 12 khoản 2)
    assert once == 2 and answers[0] == answers[1] == answers[2] and COUNTING.running == {}
    intake.agency_counters(*ask)
    assert len(reads) == 2 * once

    def failing(*arguments):
        eventlet.sleep(0.05)
        raise OSError("disk")
    monkeypatch.setattr(store, "accountable", failing)
    asked = [eventlet.spawn(intake.agency_counters, *ask) for _ in range(2)]
    for thread in asked:
        try:
            thread.wait()
            raise AssertionError("a failed count answered")
        except OSError:
            pass
    assert COUNTING.running == {}
