"""Retention: each service's store forgets a purged report's reporter (intake's `report_purged`), idempotently."""
from datetime import datetime, timedelta, timezone

import pytest

from paht.mediastore import MediaStore
from paht.schemas import Decision, ReportIn, ReportPurged, reporter_key
from paht.storage import open_database
from paht.tokens import hash_token
from services.intake.dependencies import ReportStore
from services.intake.reports import new_report
from services.publishing.dependencies import PublicationStore
from services.rating.dependencies import RatingStore
from services.routing.dependencies import RoutingStore
from services.verification.dependencies import EvidenceStore

pytestmark = pytest.mark.calendar   # run from every start instant (tests/start_instants.py)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=31)
PACK = "tay-ninh-2024"
PHONE = "0905123456"
KEY = "phone:84905123456"


@pytest.fixture
def db(tmp_path):
    return lambda service: open_database(service, "embedded://" + str(tmp_path / "db"))


def media(sha):
    return {"sha256": sha, "filename": f"{sha}.jpg", "content_type": "image/jpeg", "kind": "image", "size": 1}


def submitted(store, report_id, shas, description="Cây đổ chắn đường, nhà tôi số 12 Lê Lợi"):
    report = new_report(ReportIn(pack=PACK, description=description,
                                 reporter={"name": "An", "phone": PHONE, "email": "an@example.vn"},
                                 location={"lat": 11.31, "lon": 106.1, "address": "12 Lê Lợi"}),
                        [], NOW, report_id, "token")
    report["media"] = [media(sha) for sha in shas]
    report["facts"] = {"lat": 11.31, "lon": 106.1, "gps_distance_m": 3.0, "ward_code": "25459"}
    store.create(report, f"e-{report_id}", NOW)


def decide(store, report_id, kind, to_state=None, **fields):
    store.apply(Decision(report_id=report_id, occurred_at=NOW, pack=PACK, kind=kind, source="verification",
                         to_state=to_state, actor={"role": "reporter"} if kind == "interaction" else {}, **fields))


# ---- intake ---------------------------------------------------------------------------------------------------
def test_intake_forgets_the_reporter_and_keeps_the_announcement_until_sent(db):
    store = ReportStore(db("intake"))
    submitted(store, "R1", ["aa", "shared"])
    submitted(store, "R2", ["shared"])                      # still open: its file stays in use
    decide(store, "R1", "interaction", detail={"message": "Gọi tôi 0905123456"})
    decide(store, "R1", "verified", "rejected")
    decide(store, "R1", "rated", patch={"rating": {"level": "hai_long", "comment": "An ở số 12"}})

    assert store.purge_personal_data(PACK, NOW - timedelta(days=30), NOW, 30) == 0    # closed today
    assert store.purge_personal_data(PACK, LATER - timedelta(days=30), LATER, 30) == 1
    report = store.get("R1")
    assert report["reporter"] == {} and report["description"] is None and report["location"] is None
    assert report["media"] == [] and report["rating"] == {"level": "hai_long", "comment": None}
    assert report["facts"] == {"lat": None, "lon": None, "gps_distance_m": None, "ward_code": "25459"}
    assert report["tracking_token_hash"] != hash_token("token") and report["state"] == "rejected"
    assert [t["kind"] for t in report["timeline"]] == ["submitted", "interaction", "verified", "rated"]
    assert PHONE not in repr({k: v for k, v in report.items() if k != "purge_event"})
    assert "An ở số 12" not in repr(report) and "Lê Lợi" not in repr(report)

    [announcement] = store.unannounced_purges()          # what a crash before sending leaves: sent again
    assert announcement == ReportPurged(event_id="purge:R1", report_id="R1", occurred_at=LATER, pack=PACK,
                                        retention_days=30, reporter_key=KEY, media=["aa", "shared"])
    assert not store.media_in_use("aa") and store.media_in_use("shared")
    assert store.purge_personal_data(PACK, LATER, LATER, 30) == 0                    # purged once
    assert len(store.unannounced_purges()) == 1
    store.mark_purge_announced("R1")
    assert store.unannounced_purges() == [] and "purge_event" not in store.get("R1")
    assert PHONE not in repr(store.get("R1")) and store.get("R2")["reporter"]["phone"] == PHONE


def test_intake_keeps_the_agencys_result_photos(db):
    store = ReportStore(db("intake"))
    submitted(store, "R1", ["own"])
    decide(store, "R1", "verified", "rejected", patch={"result": {"after_photos": ["after"]}})
    store.purge_personal_data(PACK, LATER, LATER, 30)
    assert store.media_in_use("after") and not store.media_in_use("own")
    assert store.get("R1")["result"] == {"after_photos": ["after"]}


def test_intake_does_not_purge_a_report_that_changed_meanwhile(db):
    store = ReportStore(db("intake"))
    submitted(store, "R1", [])
    decide(store, "R1", "verified", "rejected")
    report = store.get("R1")
    store.reports.update_one({"_id": "R1"}, {"$inc": {"version": 1}})            # a concurrent change
    store.reports.find = lambda *a, **k: [report]                                # …after the purge read it
    assert store.purge_personal_data(PACK, LATER, LATER, 30) == 0
    assert store.get("R1")["reporter"]["phone"] == PHONE


def test_media_store_delete_is_idempotent(tmp_path):
    files = MediaStore(tmp_path / "media")
    sha = files.put(b"photo")
    assert files.exists(sha) and files.delete(sha) and not files.exists(sha)
    assert files.delete(sha) is False


# ---- verification -----------------------------------------------------------------------------------------------
def test_verification_forgets_the_fingerprint_and_the_reporters_history(db):
    store = EvidenceStore(db("verification"))
    for report_id in ("R1", "R2"):
        store.remember(report_id, KEY, ["ffff0000ffff0000"], "Cây đổ số 12 Lê Lợi", "trees_parks", 11.31, 106.1,
                       None, "rejected")
        store.count_report(KEY, report_id)
    store.count_violation(KEY, "2026-11", "R1")
    store.judge("R1", "identity", "confirmed")
    other = "phone:84911111111"                      # the report under an earlier phone (supplemented since)
    store.count_report(other, "R1")

    store.purge_report("R1", KEY)
    assert store.fingerprints.find_one({"_id": "R1"}) is None and store.judgements_for("R1") == {}
    assert store.index.same_reporter_duplicate(KEY, ["ffff0000ffff0000"], "Cây đổ số 12 Lê Lợi") == "R2"
    history = store.history(KEY)
    assert history["reports"] == ["R2"] and history["violating_reports"] == []
    assert history.get("violating_reports_by_month", {}) == {}
    assert store.history(other) is None              # nothing left of that reporter
    store.purge_report("R1", KEY)                    # again: nothing changes
    assert store.history(KEY)["reports"] == ["R2"]

    store.purge_report("R2", None)                   # the key found from the fingerprint alone
    assert store.history(KEY) is None and store.fingerprints.find_one({}) is None
    assert len(EvidenceStore(db("verification")).index) == 0          # rebuilt at start: nothing of them


def test_services_see_the_reporter_by_the_key_intake_announces_in_report_purged():
    from paht.schemas import summary_key
    from services.intake.reports import snapshot
    seen = snapshot({"_id": "R1", "reporter": {"name": "Lan", "phone": PHONE}})
    assert summary_key(seen) == reporter_key({"phone": PHONE}) == KEY
    assert seen["reporter"] == {"key": KEY, "has": ["name", "phone"], "account_verified": False}


# ---- routing ------------------------------------------------------------------------------------------------------
def test_routing_drops_text_and_place_from_held_reports(db):
    store = RoutingStore(db("routing"))
    report = {"id": "R1", "version": 3, "description": "Cây đổ trước số 12 Lê Lợi", "reporter": {"key": KEY},
              "location": {"lat": 11.31, "lon": 106.1, "address": "12 Lê Lợi"}, "category": "trees_parks"}
    store.hold("h1", "R1", LATER, report, NOW)
    store.hold("h2", "R2", LATER, dict(report, id="R2"), NOW)
    store.purge_report("R1")
    store.purge_report("R1")
    kept = store.holds.find_one({"_id": "h1"})["report"]
    assert kept["description"] is None and kept["location"] is None and kept["reporter"] == {}
    assert kept["category"] == "trees_parks" and store.holds.find_one({"_id": "h1"})["status"] == "held"
    assert store.holds.find_one({"_id": "h2"})["report"]["description"] == report["description"]


# ---- rating -------------------------------------------------------------------------------------------------------
def test_rating_forgets_messages_and_the_comment_keeps_the_level(db):
    store = RatingStore(db("rating"))
    store.record_rating("R1", PACK, {"level": "hai_long", "counts_as": "satisfied", "agency": "so-xay-dung",
                                     "comment": "An, số 12 Lê Lợi"})
    store.record_interaction("i1", "R1", "Số tôi là 0905123456", NOW)
    store.record_interaction("i2", "R2", "Cảm ơn", NOW)
    store.purge_report("R1")
    store.purge_report("R1")
    [rating] = store.all_ratings(PACK)
    assert rating["comment"] is None and rating["counts_as"] == "satisfied"
    assert [i["_id"] for i in store.interactions.find({})] == ["i2"]


# ---- publishing (holds no reporter data, so it has no purge) ---------------------------------------------------------
def test_publications_hold_no_reporter_data(db):
    store = PublicationStore(db("publishing"))
    report = {"id": "R1", "pack": PACK, "category": "trees_parks", "ward": {"code": "1"}, "description": "số 12",
              "reporter": {"phone": PHONE}, "location": {"address": "12 Lê Lợi"}}
    store.record(report, {"letter": "Kết quả", "published_at": NOW.isoformat(), "private": False})
    stored = store.publications.find_one({"_id": "R1"})
    assert PHONE not in repr(stored) and "Lê Lợi" not in repr(stored) and "số 12" not in repr(stored)
