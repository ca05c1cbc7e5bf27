"""The centre's counts (services/intake/statistics.py): a period's reports by state, category and ward, resolved in
time and rated, and the same for each reporting month of the trend (the pack's months, its cut-off day too)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from paht import periods
from paht.rules import get_pack
from services.intake.statistics import months, report_statistics

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def report(day: datetime, state="dispatched", category="roads_traffic", ward=("46101", "Phường Thuận Hóa"),
           late=False, rating=None):
    return {"submitted_at": day, "state": state, "category": category,
            "ward": {"code": ward[0], "name": ward[1]} if ward else None,
            "deadlines": {"process": {"step": "process", "late": late}}, "rating": rating}


def test_a_period_counted_by_state_category_ward_and_rates():
    may = periods.parse("2025-05", "Asia/Ho_Chi_Minh")
    april = periods.parse("2025-04", "Asia/Ho_Chi_Minh")
    reports = [
        report(datetime(2025, 5, 2, 9, tzinfo=VN), state="published", rating={"counts_as": "satisfied"}),
        report(datetime(2025, 5, 3, 9, tzinfo=VN), state="published", late=True, rating={"counts_as": "unsatisfied"}),
        report(datetime(2025, 5, 4, 9, tzinfo=VN), category="environment", ward=("46102", "Phường Phú Xuân")),
        report(datetime(2025, 5, 5, 9, tzinfo=VN), category=None, ward=None, state="submitted"),
        report(datetime(2025, 4, 30, 23, tzinfo=VN), state="delivered_privately"),   # April: the trend only
        report(datetime(2025, 6, 1, 0, tzinfo=VN)),                                 # after the period: nowhere
    ]
    counts = report_statistics(reports, may.start, may.end, [april, may])
    assert counts["totals"] == {"received": 4, "resolved": 2, "resolved_on_time": 1, "late": 1, "rated": 2,
                                "rated_by": {"satisfied": 1, "unsatisfied": 1}, "on_time_rate": 0.5,
                                "satisfied_rate": 0.5}
    assert counts["by_state"] == {"published": 2, "dispatched": 1, "submitted": 1}
    assert counts["by_category"] == [{"category": "roads_traffic", "count": 2},
                                     {"category": None, "count": 1}, {"category": "environment", "count": 1}]
    assert counts["by_ward"] == [{"code": "46101", "name": "Phường Thuận Hóa", "count": 2},
                                 {"code": "46102", "name": "Phường Phú Xuân", "count": 1}]
    assert counts["unlocated"] == 1
    assert [(m["month"], m["received"], m["resolved"], m["on_time_rate"]) for m in counts["months"]] == [
        ("2025-04", 1, 1, 1.0), ("2025-05", 4, 2, 0.5)]
    assert counts["months"][0]["satisfied_rate"] is None   # nothing rated: no rate, not 0 or 1


def test_the_trend_months_follow_the_pack_calendar():
    pack = get_pack("thua-thien-hue-2022")
    until = datetime(2025, 3, 10, 12, tzinfo=VN)
    labels = [m.label for m in months(pack, until, 4)]
    assert labels == ["2024-12", "2025-01", "2025-02", "2025-03"]
    # TTH counts its months from the 15th (reports.cutoff_day 14): 20/03 is in April's month, 15/03 00:00 (the
    # exclusive end) closes March's
    assert months(pack, datetime(2025, 3, 20, tzinfo=VN), 1)[0].label == "2025-04"
    [march] = months(pack, datetime(2025, 3, 15, tzinfo=VN), 1)
    assert (march.label, march.start, march.end) == ("2025-03", datetime(2025, 2, 15, tzinfo=VN),
                                                     datetime(2025, 3, 15, tzinfo=VN))
    assert months(pack, until, 0) == []
