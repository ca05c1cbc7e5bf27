"""The staff pages' counts kept a short while (services/gateway/pages/recent.py, issue 22): at most RECENT_SECONDS
old by this process's clock and the system's, counted once for callers asking together, failures not kept."""
from datetime import datetime, timedelta, timezone

import eventlet
import pytest

from paht import clock
from paht.clock import FixedClock
from services.gateway.pages import recent as recent_module
from services.gateway.pages.recent import Recent

START = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def moments(monkeypatch):
    fixed = FixedClock(START)
    clock.set_clock(fixed)
    ticks = [1000.0]
    monkeypatch.setattr(recent_module.time, "monotonic", lambda: ticks[0])
    yield fixed, ticks
    clock.set_clock(None)


def test_an_answer_is_kept_at_most_its_age_by_either_clock_and_says_when_it_was_counted(moments):
    fixed, ticks = moments
    kept, counts = Recent(seconds=60, kept=10), []

    def count():
        counts.append(clock.now())
        return {"n": len(counts)}
    assert kept.get("k", count) == ({"n": 1}, START)
    ticks[0] += 59
    fixed.advance(59)
    assert kept.get("k", count) == ({"n": 1}, START)             # counted 59 s ago: as counted, and when
    ticks[0] += 2
    fixed.advance(2)
    # older than that: shown as counted while it is counted again in the background, once for every asker
    assert kept.get("k", count) == ({"n": 1}, START) and kept.get("k", count) == ({"n": 1}, START)
    eventlet.sleep(0)
    assert counts == [START, START + timedelta(seconds=61)]
    assert kept.get("k", count) == ({"n": 2}, START + timedelta(seconds=61))
    fixed.advance(3600)                                          # the controlled clock jumped: counted again, now
    assert kept.get("k", count)[0] == {"n": 3}
    assert kept.get("other", count)[0] == {"n": 4}                # another key: its own count


def test_an_answer_too_old_to_show_is_counted_before_the_page_answers(moments):
    fixed, ticks = moments
    kept, counts = Recent(seconds=60, stale=600, kept=10), []

    def count():
        counts.append(1)
        return len(counts)
    kept.get("k", count)
    ticks[0] += 601
    fixed.advance(601)
    assert kept.get("k", count) == (2, START + timedelta(seconds=601)) and len(counts) == 2


def test_a_background_count_that_fails_leaves_the_older_answer_shown(moments):
    fixed, ticks = moments
    kept = Recent(seconds=60, stale=600, kept=10)
    kept.get("k", lambda: "first")

    def failing():
        raise RuntimeError("rating away")
    ticks[0] += 120
    fixed.advance(120)
    assert kept.get("k", failing) == ("first", START)
    eventlet.sleep(0)
    assert kept.get("k", failing) == ("first", START) and "k" in kept.values
    eventlet.sleep(0)
    ticks[0] += 500
    fixed.advance(500)                                            # 620 s old: counted now, and the failure shows
    with pytest.raises(RuntimeError):
        kept.get("k", failing)


def test_a_failure_or_an_answer_not_to_keep_is_counted_again(moments):
    kept, counts = Recent(seconds=60, kept=10), []

    def failing():
        counts.append(1)
        raise RuntimeError("no answer")
    for _ in range(2):
        with pytest.raises(RuntimeError):
            kept.get("k", failing)
    assert len(counts) == 2
    assert kept.get("e", lambda: {"error": 1}, keep=lambda a: "error" not in a)[0] == {"error": 1}
    assert kept.get("e", lambda: {"ok": 1}, keep=lambda a: "error" not in a)[0] == {"ok": 1}


def test_callers_asking_together_wait_for_one_count(moments):
    kept, counts = Recent(seconds=60, kept=10), []

    def slow():
        counts.append(1)
        eventlet.sleep(0.05)
        return len(counts)
    threads = [eventlet.spawn(kept.get, "k", slow) for _ in range(5)]
    assert [thread.wait()[0] for thread in threads] == [1] * 5 and counts == [1]


def test_at_most_so_many_answers_are_kept(moments):
    kept = Recent(seconds=60, kept=3)
    for key in range(5):
        kept.get(key, lambda: key)
    assert len(kept.values) <= 3
