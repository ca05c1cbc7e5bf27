"""Issue 21 item 5: the citizen's `penalties` stage has one owner, verification, which evaluates it over the reporter's
whole record (services/verification/penalties.py); rating asks it before it records a message
(`verification.interaction_gate`) and tells it of a refused one (`verification.interaction_violation`).

The readings of the articles (ST-2022 Điều 15 khoản 1, ST-2023 Điều 17 khoản 1, TTH Điều 14 khoản 1, VL Điều 15
khoản 1 điểm a, b; each pack's notes): abusive submissions count toward the account lock only, violating
interactions toward the interaction lock only; "trong vòng 1 tháng" is the last 30 days (a sliding window, the pack's
`interaction_violation_window`); an account lock refuses interactions too."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory

from paht import callers, clock, storage
from paht.clock import FixedClock
from paht.errors import RpcApiError
from paht.rpc import RpcTimeout
from paht.rules import get_pack
from paht.schemas import reporter_summary, tenant_key
from services.rating.dependencies import RatingStore
from services.rating.service import RatingService
from services.verification.dependencies import EvidenceStore
from services.verification.facts import reporter_facts
from services.verification.penalties import citizen_counters
from services.verification.service import VerificationService

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HUE = "thua-thien-hue-2022"
RUDE = "Làm ăn như đồ chó"


class OverTheBus:
    """An RpcProxy stand-in that calls another worker's method directly, its arguments and answer as JSON (as over
    the bus)."""

    def __init__(self, worker):
        self.worker = worker

    def __getattr__(self, name):
        method = getattr(self.worker, name)

        def call(*args, **kwargs):
            args, kwargs = json.loads(json.dumps([args, kwargs]))
            return json.loads(json.dumps(method(*args, **kwargs)))
        return call


def rating_with_verification(rating_store=None, evidence=None):
    """A rating worker whose `verification` proxy reaches a verification worker (both on memory stores)."""
    evidence = evidence or EvidenceStore(storage.open_database("verification", "memory://"))
    verification = worker_factory(VerificationService, evidence=evidence)
    rating = worker_factory(RatingService, store=rating_store or RatingStore(storage.open_database("rating",
                                                                                                   "memory://")),
                            verification=OverTheBus(verification))
    return rating, verification


@pytest.fixture
def at():
    def move(when):
        clock.set_clock(FixedClock(when))
        return when
    yield move
    clock.set_clock(None)


def report_of(pack=HUE, phone="0905123456", report_id="PA-1", state="published"):
    return {"id": report_id, "pack": pack, "state": state, "reporter": reporter_summary({"phone": phone}),
            "assigned_agencies": [{"id": "so-xay-dung", "role": "lead"}]}


def violate(verification, report, event_id):
    subject = {"id": report["id"], "pack": report["pack"], "reporter": {"key": report["reporter"]["key"]}}
    return callers.call_internal("verification", verification, "interaction_violation", report=subject,
                                 event_id=event_id)


def gate(verification, report):
    subject = {"id": report["id"], "pack": report["pack"], "reporter": {"key": report["reporter"]["key"]}}
    return callers.call_internal("verification", verification, "interaction_gate", report=subject)


# ---- (1) two counts --------------------------------------------------------------------------------------------------
def test_abusive_submissions_lock_the_account_not_the_interactions_and_the_account_lock_refuses_messages(at):
    at(NOW)
    rating, verification = rating_with_verification()
    report, pack = report_of(), get_pack(HUE)
    key = tenant_key(report)
    for n in range(4):                    # "gửi nội dung phản ánh với câu từ không chuẩn mực … trên 3 lần"
        verification.count_violation(pack, key, NOW, f"PA-{n}")
    history = verification.evidence.history(key)
    assert history["account_locked"]["rule"] == "tth-pen-lock-account" and history["account_locked"]["until"] is None
    assert "interaction_locked" not in history            # submissions do not count toward the interaction lock
    facts = reporter_facts(report["reporter"], history, f"{NOW:%Y-%m}", NOW)
    assert facts["account_locked"] and not facts["interaction_locked"]
    # (3) the whole account is locked: its messages are refused too, citing the account lock
    answer = rating.interact(report, "Xin làm rõ thời gian sửa xong")
    assert answer["error"]["code"] == "INTERACTION_LOCKED"
    assert "tth-pen-lock-account" in answer["error"]["detail"] and "Điều 14 khoản 1" in answer["error"]["detail"]
    assert gate(verification, report)["lock"] == "account"


def test_violating_interactions_lock_the_interactions_not_the_account(at):
    at(NOW)
    rating, verification = rating_with_verification()
    report = report_of()
    for n in range(3):
        assert rating.interact(report, f"{RUDE} {n}")["error"]["detail"] == "counted as a violation"
    fourth = rating.interact(report, f"{RUDE} 3")
    assert fourth["error"]["code"] == "PROHIBITED_INTERACTION"
    assert "interactions now locked" in fourth["error"]["detail"] and "tth-pen-lock-interaction" in \
        fourth["error"]["detail"]
    history = verification.evidence.history(tenant_key(report))
    assert "account_locked" not in history                # interactions do not count toward the account lock
    assert citizen_counters(history, get_pack(HUE), NOW) == {"subject": "citizen", "abusive_submissions_total": 0,
                                                             "violations_month": 4}
    # what verification keeps of a violation: the event, the report, the time — never the text
    assert all(set(item) == {"event_id", "report_id", "at"} for item in history["interaction_violations"])
    assert RUDE not in json.dumps(history, default=str)
    assert rating.interact(report, "Khi nào sửa xong?")["error"]["code"] == "INTERACTION_LOCKED"   # the 5th at once
    assert not reporter_facts(report["reporter"], history, f"{NOW:%Y-%m}", NOW)["account_locked"]


# ---- (2) the window --------------------------------------------------------------------------------------------------
def test_the_window_is_the_last_30_days_not_the_calendar_month(at):
    _, verification = rating_with_verification()
    report = report_of()
    at(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    assert violate(verification, report, "e1") is None and violate(verification, report, "e2") is None
    at(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))          # another calendar month, the same 30 days
    assert violate(verification, report, "e3") is None
    lock = violate(verification, report, "e4")
    assert lock["lock"] == "interaction" and lock["rule"] == "tth-pen-lock-interaction"

    _, verification = rating_with_verification()
    at(NOW)
    for n in range(3):
        violate(verification, report, f"old-{n}")
    at(NOW + timedelta(days=30))                         # 30 days later the first three have left the window
    assert violate(verification, report, "new") is None
    assert gate(verification, report) is None


def test_the_lock_ends_in_the_packs_calendar_and_a_later_evaluation_does_not_extend_it(at):
    at(NOW)
    _, verification = rating_with_verification()
    report, pack = report_of(), get_pack(HUE)
    for n in range(4):
        lock = violate(verification, report, f"e{n}")
    assert datetime.fromisoformat(lock["until"]) == NOW + timedelta(days=30)
    assert lock["message"].startswith("Chức năng tương tác bị khóa")
    at(NOW + timedelta(days=5))
    for n in range(4):                                   # abusive reports: the account lock; the interaction lock
        verification.count_violation(pack, tenant_key(report), clock.now(), f"PA-{n}")   # keeps its end
    history = verification.evidence.history(tenant_key(report))
    assert history["interaction_locked"]["until"] == NOW + timedelta(days=30)
    assert history["account_locked"]["rule"] == "tth-pen-lock-account"
    assert gate(verification, report)["lock"] == "account"


def test_a_violation_counts_once_per_event_and_a_retry_answers_the_same(at):
    at(NOW)
    _, verification = rating_with_verification()
    report = report_of()
    for n in range(3):
        violate(verification, report, f"e{n}")
        violate(verification, report, f"e{n}")           # a retried call
    assert len(verification.evidence.history(tenant_key(report))["interaction_violations"]) == 3
    lock = violate(verification, report, "e3")
    assert lock is not None and violate(verification, report, "e3") == lock
    assert violate(verification, report, "e2") is None   # an earlier event did not set it


def test_tay_ninh_counts_but_never_locks(at):
    at(NOW)
    rating, verification = rating_with_verification()
    report = report_of(pack="tay-ninh-2024")
    for n in range(6):
        assert rating.interact(report, f"đồ chó {n}")["error"]["detail"] == "counted as a violation"
    assert gate(verification, report) is None


# ---- retention -------------------------------------------------------------------------------------------------------
def test_retention_forgets_the_purged_reports_interaction_violations(at):
    at(NOW)
    _, verification = rating_with_verification()
    first, second = report_of(report_id="PA-1"), report_of(report_id="PA-2")
    key = tenant_key(first)
    violate(verification, first, "e1")
    violate(verification, first, "e2")
    violate(verification, second, "e3")
    verification.evidence.purge_report("PA-1", None)      # the reporter found by the violations alone
    assert [item["event_id"] for item in verification.evidence.history(key)["interaction_violations"]] == ["e3"]
    verification.evidence.purge_report("PA-2", key)
    assert verification.evidence.history(key) is None     # nothing left of that reporter


# ---- the upgrade -----------------------------------------------------------------------------------------------------
def test_interaction_locks_an_earlier_verification_recorded_from_submissions_are_dropped_once(tmp_path):
    db = storage.open_database("verification", "embedded://" + str(tmp_path))
    db["reporters"].insert_one({"_id": f"{HUE}/phone:84905123456", "violating_reports": ["A", "B", "C", "D"],
                                "account_locked": {"rule": "tth-pen-lock-account", "article": "Điều 14 khoản 1",
                                                   "until": None},
                                "interaction_locked": {"rule": "tth-pen-lock-interaction",
                                                       "article": "Điều 14 khoản 1", "until": NOW}})
    store = EvidenceStore(db)
    history = store.history(f"{HUE}/phone:84905123456")
    assert "interaction_locked" not in history and history["account_locked"]["rule"] == "tth-pen-lock-account"
    store.set_locks("k", {"interaction_locked": {"rule": "r", "article": "a", "until": None, "at": NOW}})
    EvidenceStore(db)                                     # a restart keeps locks recorded since
    assert store.history("k")["interaction_locked"]["rule"] == "r"


def test_ratings_old_violations_and_locks_are_handed_over_to_verification(at):
    at(NOW)
    rating_store = RatingStore(storage.open_database("rating", "memory://"))
    report = report_of()
    key = tenant_key(report)
    for n in range(2):                                    # what the earlier rating service kept
        rating_store.interactions.insert_one({"_id": f"old-{n}", "report_id": "PA-1", "reporter_key": key,
                                              "violation": True, "phrases": ["đồ chó"], "at": NOW - timedelta(days=2),
                                              "message": f"{RUDE} {n}"})
    other = report_of(phone="0905999888")
    rating_store.interactions.insert_one({"_id": f"lock:{tenant_key(other)}", "reporter_key": tenant_key(other),
                                          "lock": True, "until": NOW + timedelta(days=10),
                                          "rule": "tth-pen-lock-interaction", "article": "Điều 14 khoản 1",
                                          "message": "Chức năng tương tác bị khóa", "at": NOW - timedelta(days=20),
                                          "violations": 4})
    rating_store.record_interaction("i1", "PA-1", "Xin làm rõ", NOW)
    rating, verification = rating_with_verification(rating_store)
    # before the hand-over, the old lock is read as a fallback
    assert rating.interact(other, "Xin làm rõ")["error"]["code"] == "INTERACTION_LOCKED"
    rating.hand_over_penalties()
    assert [doc["_id"] for doc in rating_store.interactions.find({})] == ["i1"]     # the texts are gone
    assert gate(verification, other)["until"] == (NOW + timedelta(days=10)).isoformat()
    assert rating.interact(other, "Xin làm rõ")["error"]["code"] == "INTERACTION_LOCKED"
    assert len(verification.evidence.history(key)["interaction_violations"]) == 2
    assert rating.interact(report, f"{RUDE} 2")["error"]["detail"] == "counted as a violation"     # the 3rd
    assert "interactions now locked" in rating.interact(report, f"{RUDE} 3")["error"]["detail"]     # the 4th
    rating.hand_over_penalties()                          # nothing left: nothing asked
    assert rating_store.legacy_handed_over


# ---- the RPCs --------------------------------------------------------------------------------------------------------
def test_the_rpcs_take_pahts_assertion_and_validate_their_arguments(at):
    at(NOW)
    _, verification = rating_with_verification()
    subject = {"id": "PA-1", "pack": HUE, "reporter": {"key": "phone:84905123456"}}
    with pytest.raises(RpcApiError) as refused:
        verification.interaction_gate(report=subject)
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(RpcApiError) as refused:          # an assertion made for other arguments
        verification.interaction_violation(report=subject, event_id="e2", credential=callers.internal_credential(
            "verification.interaction_violation", {"report": subject, "event_id": "e1"}))
    assert refused.value.code == "FORBIDDEN"
    for bad in ({"id": "PA-1", "pack": "no-such-pack", "reporter": {"key": "x"}}, {"pack": HUE},
                {"id": 7, "pack": HUE}, "PA-1"):
        with pytest.raises(RpcApiError) as refused:
            callers.call_internal("verification", verification, "interaction_gate", report=bad)
        assert refused.value.code == "VALIDATION_FAILED", bad
    with pytest.raises(RpcApiError) as refused:
        callers.call_internal("verification", verification, "interaction_violation", report=subject, event_id="")
    assert refused.value.code == "VALIDATION_FAILED" and "event_id" in refused.value.fields
    with pytest.raises(RpcApiError) as refused:
        callers.call_internal("verification", verification, "adopt_interaction_records",
                              violations=[{"event_id": "e", "report_id": "PA-1", "reporter_key": "not a key",
                                           "at": NOW.isoformat()}])
    assert refused.value.code == "VALIDATION_FAILED"
    assert callers.call_internal("verification", verification, "interaction_gate",
                                 report={"id": "PA-1", "pack": HUE}) is None       # no reporter key: no record


def test_verification_not_answering_is_service_unavailable(at):
    at(NOW)

    class Silent:
        def __getattr__(self, name):
            def call(**_):
                raise RpcTimeout(f"verification.{name}", 10)
            return call
    rating = worker_factory(RatingService, store=RatingStore(storage.open_database("rating", "memory://")),
                            verification=Silent())
    assert rating.interact(report_of(), "Xin làm rõ")["error"]["code"] == "SERVICE_UNAVAILABLE"
