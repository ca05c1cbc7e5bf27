"""Issue 13 item 3: verification's duplicate index lives in the store (shared by replicas), answering exactly as the
in-memory index it replaced did."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from paht.geo import WardIndex
from paht.storage import open_database
from services.verification.dependencies import EvidenceStore
from services.verification.evidence import inspect_media
from tests import media_factory as make

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=make.VN)


@pytest.fixture
def db(tmp_path):
    return lambda: open_database("verification", f"embedded://{tmp_path}")


def test_duplicates_among_200_generated_reports(db):
    index = EvidenceStore(db()).index
    hue = WardIndex.of_pack("thua-thien-hue-2022")
    rng = random.Random(5)
    reports = []
    for n in range(200):
        lat, lon = hue.random_point(rng)
        phash = inspect_media(make.jpeg(NOW, seed=n), "p.jpg", None, None, "Asia/Ho_Chi_Minh").phash
        text = f"Đường bị ngập nặng sau mưa tại khu vực số {n}, đề nghị xử lý thoát nước"
        index.add(f"R{n}", f"phone:84{n:09d}", [phash], text, "water_drainage", lat, lon, NOW + timedelta(days=6),
                  "dispatched")
        reports.append((lat, lon))
    lat, lon = reports[42]
    again = inspect_media(make.resaved(make.jpeg(NOW, seed=42), 70), "p.jpg", None, None, "Asia/Ho_Chi_Minh").phash
    accents_off = "Duong bi ngap nang sau mua tai khu vuc so 42, de nghi xu ly thoat nuoc"
    assert index.same_reporter_duplicate(f"phone:84{42:09d}", [again], accents_off) == "R42"
    assert index.same_reporter_duplicate(f"phone:84{42:09d}", [again], accents_off, exclude="R42") is None
    assert index.same_reporter_duplicate(f"phone:84{43:09d}", [again], accents_off) is None
    assert index.open_same_matter(f"phone:84{42:09d}", "water_drainage", lat, lon, "khác", NOW) == "R42"
    assert index.open_same_matter(f"phone:84{42:09d}", "water_drainage", lat, lon, "khác",
                                  NOW + timedelta(days=7)) is None
    assert index.cluster("new", "water_drainage", lat, lon, reporter_key="phone:someone") == ["R42"]
    assert len(index) == 200


def test_replicas_share_the_index_at_once(db):
    """Two verification processes on one store: what one remembers, the other finds on its next lookup."""
    first, second = EvidenceStore(db()), EvidenceStore(db())
    first.remember("R1", "phone:84905123456", ["ffff0000ffff0000"], "Cây đổ số 12 Lê Lợi", "trees_parks", 16.46,
                   107.59, NOW + timedelta(days=3), "dispatched")
    assert second.index.same_reporter_duplicate("phone:84905123456", ["ffff0000ffff0001"],
                                                "Cây đổ số 12 Lê Lợi") == "R1"
    assert second.index.cluster("R2", "trees_parks", 16.4601, 107.5901) == ["R1"]
    second.remember_state("R1", "published", None)
    assert first.index.cluster("R2", "trees_parks", 16.4601, 107.5901) == []
    assert first.index.open_same_matter("phone:84905123456", "trees_parks", 16.46, 107.59, "x", NOW) is None
    first.purge_report("R1")
    assert second.index.same_reporter_duplicate("phone:84905123456", ["ffff0000ffff0000"],
                                                "Cây đổ số 12 Lê Lợi") is None


def test_fingerprints_of_an_earlier_version_get_their_cells(db):
    database = db()
    database["fingerprints"].insert_one({"_id": "OLD", "reporter_key": "phone:1", "phashes": [], "text": "a b",
                                         "category": "roads_traffic", "lat": 16.46, "lon": 107.59,
                                         "open_until": NOW + timedelta(days=1), "state": "dispatched"})
    database["fingerprints"].insert_one({"_id": "NOPLACE", "reporter_key": "phone:1", "phashes": [], "text": "a",
                                         "category": "roads_traffic", "lat": None, "lon": None,
                                         "open_until": None, "state": "dispatched"})
    store = EvidenceStore(database)
    assert store.index.cluster("new", "roads_traffic", 16.4601, 107.5901) == ["OLD"]
    assert store.fingerprints.find_one({"_id": "NOPLACE"})["cell"] is None


def test_one_province_never_sees_anothers_reports(db):
    """Every province is a tenant: the same citizen's open report in Sóc Trăng is no duplicate, no same open matter
    and no cluster for a report to Huế (the suite saw Huế's report refused as ALREADY_IN_PROGRESS when Sóc Trăng's
    was verified first). Verification counts a reporter by paht.schemas.tenant_key, within the pack."""
    from paht.schemas import tenant_key

    reporter = {"reporter": {"key": "phone:84905123456"}}
    store = EvidenceStore(db())
    store.remember("ST1", tenant_key({"pack": "soc-trang-2022", **reporter}), ["ffff0000ffff0000"],
                   "Ổ gà lớn giữa đường", "roads_traffic", 16.46, 107.59, NOW + timedelta(days=3), "dispatched",
                   "soc-trang-2022")
    for pack, seen in (("thua-thien-hue-2022", None), ("soc-trang-2022", "ST1")):
        key = tenant_key({"pack": pack, **reporter})
        assert store.index.same_reporter_duplicate(key, ["ffff0000ffff0000"], "Ổ gà lớn giữa đường") == seen
        assert store.index.open_same_matter(key, "roads_traffic", 16.46, 107.59, "Ổ gà", NOW) == seen
        assert store.index.cluster("new", "roads_traffic", 16.4601, 107.5901, pack=pack) == ([seen] if seen else [])
