"""Star ratings (issue 24 item 3): a 1–5 star scale is data the format already takes — five `levels`, each saying
what it counts as for the satisfaction rates the penalty rules test. No code reads a level's id or number of levels.

Written on a copy of Huế's pack (none of the five seeds rates in stars).
"""
from __future__ import annotations

from datetime import datetime, timezone

from paht.rules import load_pack
from services.rating.ratings import rating_decision
from paht.scorecards import EMPTY, with_rates
from tests.unit.pack_files import edit

THREE_LEVELS = """    - {id: hai_long, label: Hài lòng, counts_as: satisfied}
    - {id: chap_nhan_duoc, label: Chấp nhận được, counts_as: accepted}
    - {id: khong_hai_long, label: Không hài lòng, counts_as: unsatisfied}
"""
FIVE_STARS = """    - {id: "5", label: "★★★★★ Rất hài lòng", counts_as: satisfied}
    - {id: "4", label: "★★★★ Hài lòng", counts_as: satisfied}
    - {id: "3", label: "★★★ Chấp nhận được", counts_as: accepted}
    - {id: "2", label: "★★ Không hài lòng", counts_as: unsatisfied}
    - {id: "1", label: "★ Rất không hài lòng", counts_as: unsatisfied}
"""
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)


def star_pack(pack_dir):
    edit(pack_dir / "pack.yaml", THREE_LEVELS, FIVE_STARS)
    return load_pack(pack_dir)


def test_a_five_star_scale_loads_and_a_star_counts_as_its_level(pack_copy):
    levels = star_pack(pack_copy).rating_levels()
    report = {"id": "r1", "pack": "thua-thien-hue-2022", "state": "published", "route": {"lead": "so-xay-dung"}}
    decision = rating_decision(report, levels, "4", None, NOW, "e1", "Điều 13 khoản 4")
    assert decision.patch["rating"]["counts_as"] == "satisfied"
    assert decision.patch["rating"]["label"].startswith("★★★★ ")


def test_star_ratings_make_the_satisfaction_rates(pack_copy):
    levels = star_pack(pack_copy).rating_levels()
    # 10 ratings: 5★ ×3, 4★ ×3 (satisfied), 3★ ×1 (accepted), 2★/1★ ×3 (unsatisfied)
    card = with_rates(dict(EMPTY, rated_count=10, rated_by={"satisfied": 6, "accepted": 1, "unsatisfied": 3}),
                      levels)
    assert (card["satisfied_rate"], card["satisfied_or_accepted_rate"]) == (0.6, 0.7)
