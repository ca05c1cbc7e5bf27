"""Wards from the 2025 boundary files: the ward of a point, in each of the four provinces."""
import random

import pytest

from paht.agencies import generate
from paht.categories import classify
from paht.geo import WardIndex, distance_m


@pytest.mark.parametrize("pack_id", ["thua-thien-hue-2022", "soc-trang-2023", "vinh-long-2025", "tay-ninh-2024"])
def test_points_inside_wards_are_located_in_them(pack_id):
    index = WardIndex.of_pack(pack_id)
    wards = index.wards()
    for ward in random.Random(pack_id).sample(wards, 20):
        lat, lon = index.representative_point(ward.code)
        assert index.locate(lat, lon).code == ward.code
    rng = random.Random(1)
    for _ in range(50):
        lat, lon = index.random_point(rng)
        assert index.contains(lat, lon)


def test_points_outside_the_province():
    index = WardIndex.of_pack("thua-thien-hue-2022")
    assert index.locate(21.0285, 105.8542) is None        # Hà Nội
    assert index.locate(16.9, 108.6) is None              # the sea off Huế
    assert WardIndex.of_pack("soc-trang-2023").locate(16.4637, 107.5909) is None


def test_distance():
    assert 1100 < distance_m(16.46, 107.59, 16.47, 107.59) < 1120


def test_agency_directory_has_fixed_ids_and_a_committee_per_ward():
    agencies = {a["id"]: a for a in generate("vinh-long-2025")}
    for fixed in ("trung-tam", "so-xay-dung", "cong-an", "dien-luc", "cap-nuoc", "chieu-sang", "moi-truong-do-thi"):
        assert fixed in agencies
    committees = [a for a in agencies.values() if a["kind"] == "ward_committee"]
    assert len(committees) == len(WardIndex.of_pack("vinh-long-2025").wards())
    assert all(a["name"].startswith("UBND ") for a in committees)


def test_classification_by_keywords():
    assert classify("Có ổ gà lớn trên đường") == "roads_traffic"
    assert classify("Den duong khong sang") == "lighting_power"      # typed without diacritics
    assert classify("Đang có cháy nhà") == "fire_rescue"
    assert classify("xin chào") == "other"
