"""Cadences: a person's words, learned from history, and the deadline after which a dataset is stale."""

from datetime import datetime, time, timedelta, timezone

import pytest

from catalog.quality import cadence
from catalog.quality.cadence import CadenceError, learn, parse


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("words, every", [
    ("hourly", timedelta(hours=1)), ("Updated hourly", timedelta(hours=1)), ("daily", timedelta(days=1)),
    ("every 6 hours", timedelta(hours=6)), ("every 30 minutes", timedelta(minutes=30)), ("every day", timedelta(days=1)),
    ("weekly", timedelta(days=7)),
])
def test_interval_words(words, every):
    parsed = parse(words)
    assert parsed.every == every and parsed.by is None
    assert parsed.grace == max(every / 4, timedelta(minutes=5))


def test_deadline_words_and_weekdays():
    parsed = parse("by 07:00 UTC on weekdays")
    assert parsed.by == time(7, 0) and parsed.days == cadence.WEEKDAYS
    assert parse("by 7").by == time(7, 0) and parse("by 7").days == cadence.EVERY_DAY
    assert parsed.describe() == "by 07:00 UTC on weekdays"
    assert parse("daily by 06:30 UTC").describe() == "daily by 06:30 UTC"


@pytest.mark.parametrize("words", ["sometimes", "by 25:00", "every 0 minutes", "", "hourly-ish"])
def test_words_not_understood_say_what_is(words):
    with pytest.raises(CadenceError, match="hourly|time of day|at least a minute"):
        parse(words)


def test_interval_deadline_is_last_change_plus_interval_and_grace():
    hourly = parse("hourly")
    assert hourly.deadline(utc(2026, 1, 5, 6, 0)) == utc(2026, 1, 5, 7, 15)
    assert hourly.deadline(None) is None  # unknown is never stale


def test_weekday_deadline_needs_a_change_in_the_day_before_each_due_moment():
    by7 = parse("by 07:00 UTC on weekdays")
    monday = utc(2026, 1, 5, 6, 30)  # 2026-01-05 is a Monday
    assert monday.weekday() == 0
    assert by7.deadline(monday) == utc(2026, 1, 6, 7, 0)  # Tuesday's 07:00 needs a change after Monday 07:00
    assert by7.deadline(utc(2026, 1, 5, 8, 0)) == utc(2026, 1, 7, 7, 0)  # Monday 08:00 counts for Tuesday
    # Friday's change: Saturday and Sunday are not due; Monday 07:00 needs a change since Sunday 07:00.
    assert by7.deadline(utc(2026, 1, 9, 6, 0)) == utc(2026, 1, 12, 7, 0)


def test_learns_daily_around_six():
    times = [utc(2026, 1, d, 6, m) for d, m in zip(range(1, 9), (2, 10, 55, 5, 0, 12, 58, 3))]
    times[2] = utc(2026, 1, 3, 5, 55)
    learned = learn(times)
    assert learned.every == timedelta(days=1)
    assert learned.describe() == "daily, around 06:11 UTC"  # the circular mean of the eight times
    assert learned.deadline(times[-1]) == times[-1] + timedelta(days=1, hours=6)


def test_learns_a_regular_interval_and_refuses_irregular_history():
    every_2h = [utc(2026, 1, 1) + timedelta(hours=2 * i, minutes=(i % 3)) for i in range(10)]
    assert learn(every_2h).describe() == "every 2 hours"
    assert abs(learn(every_2h).every - timedelta(hours=2)) < timedelta(minutes=5)
    irregular = [utc(2026, 1, 1) + timedelta(hours=h) for h in (0, 1, 9, 10, 40, 41, 90)]
    assert learn(irregular) is None
    assert learn(every_2h[:3]) is None  # too few changes to call anything late


def test_midnight_changes_average_to_midnight_not_noon():
    times = [utc(2026, 1, d, 23, 50) if d % 2 else utc(2026, 1, d, 0, 10) for d in range(1, 9)]
    learned = learn(times)
    assert learned is None or learned.around in (time(0, 0), time(23, 59), time(0, 1))
