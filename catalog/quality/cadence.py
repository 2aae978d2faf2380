"""When a dataset's data is expected to change, and when it is late: pure logic, no Django.

A cadence is either an interval ("hourly", "every 6 hours", "daily") or a deadline ("by 07:00 UTC",
"by 07:00 UTC on weekdays"). It is set by a person, in those words, or learned from the history of
observed changes (`learn`: regular changes, e.g. every day around 06:00). `deadline(last_change)`
is the moment after which the dataset is stale; None means it cannot be late (unknown is never stale).
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

WEEKDAYS = frozenset(range(5))  # Monday..Friday, as datetime.weekday()
EVERY_DAY = frozenset(range(7))
MIN_GRACE = timedelta(minutes=5)
LEARN_AT_LEAST = 4  # changes before a cadence is learned (three intervals)
LEARN_FROM = 30  # the most recent changes a cadence is learned from


class CadenceError(ValueError):
    """The words do not say a cadence; the message says what would."""


@dataclass(frozen=True)
class Cadence:
    every: timedelta | None = None  # an interval cadence
    by: time | None = None  # a deadline cadence: a change in the 24 hours before each due moment (UTC)
    days: frozenset = EVERY_DAY  # the weekdays a deadline falls on
    grace: timedelta = MIN_GRACE  # how late an interval cadence may be before the dataset is stale
    around: time | None = None  # a learned daily cadence: the usual time of day of the change (UTC), for words

    def deadline(self, last_change: datetime | None) -> datetime | None:
        """The moment the dataset is stale from, if it does not change again; None: it cannot be late."""
        if last_change is None:
            return None
        if self.every is not None:
            return last_change + self.every + self.grace
        # The first due moment whose 24-hour window (after the moment a day before it) the last change is not in.
        start = last_change.astimezone(timezone.utc) + timedelta(days=1)
        for ahead in range(9):
            day = (start + timedelta(days=ahead)).date()
            moment = datetime.combine(day, self.by, tzinfo=timezone.utc)
            if day.weekday() in self.days and moment >= start:
                return moment
        return None

    def describe(self) -> str:
        if self.every is not None:
            if self.around is not None:
                return f"daily, around {self.around:%H:%M} UTC"
            return f"every {duration_words(self.every)}"
        when = f"by {self.by:%H:%M} UTC"
        if self.days == WEEKDAYS:
            return f"{when} on weekdays"
        if self.days == EVERY_DAY:
            return f"daily {when}"
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        return f"{when} on {', '.join(names[d] for d in sorted(self.days))}"


def duration_words(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n} {unit}s"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 60:
        return f"{round(seconds / 60)} minutes"
    return f"{seconds} seconds"


_UNITS = {"minute": 60, "min": 60, "hour": 3600, "h": 3600, "day": 86400, "d": 86400, "week": 7 * 86400}
_NAMED = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400}
_EVERY = re.compile(r"(?:updated\s+)?every\s+(\d+)?\s*(minute|min|hour|h|day|d|week)s?")
_BY = re.compile(r"(?:(?:updated\s+)?daily\s+)?by\s+(\d{1,2})(?::(\d{2}))?\s*(?:utc)?(?:\s+on\s+(weekdays|every day|all days))?")
EXAMPLES = '"hourly", "daily", "every 6 hours", "every 30 minutes", "by 07:00 UTC", "by 07:00 UTC on weekdays"'


def parse(text: str) -> Cadence:
    """A cadence from a person's words. Raises CadenceError with the forms understood."""
    words = " ".join(str(text).lower().replace("updated ", "", 1).split()).strip(" .")
    if words in _NAMED:
        return interval(timedelta(seconds=_NAMED[words]))
    match = _EVERY.fullmatch(words)
    if match:
        seconds = int(match.group(1) or 1) * _UNITS[match.group(2)]
        if seconds < 60:
            raise CadenceError("A cadence is at least a minute.")
        return interval(timedelta(seconds=seconds))
    match = _BY.fullmatch(words)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour > 23 or minute > 59:
            raise CadenceError(f"{hour:02d}:{minute:02d} is not a time of day.")
        days = WEEKDAYS if match.group(3) == "weekdays" else EVERY_DAY
        return Cadence(by=time(hour, minute), days=days)
    raise CadenceError(f"Canon does not understand \u201c{text}\u201d as a cadence; write one of {EXAMPLES}.")


def interval(every: timedelta, around: time | None = None) -> Cadence:
    """An interval cadence, late after a quarter of the interval more (at least five minutes)."""
    return Cadence(every=every, grace=max(every / 4, MIN_GRACE), around=around)


def learn(changes: list[datetime]) -> Cadence | None:
    """A cadence from observed change times, when they are regular: at least LEARN_AT_LEAST changes whose
    intervals mostly (four in five) lie within half and one and a half times their median. None otherwise:
    irregular data is never called late."""
    times = sorted(changes)[-LEARN_FROM:]
    if len(times) < LEARN_AT_LEAST:
        return None
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:]) if b > a]
    if len(gaps) < LEARN_AT_LEAST - 1:
        return None
    median = statistics.median(gaps)
    if median < 60:
        return None
    regular = sum(1 for g in gaps if 0.5 * median <= g <= 1.5 * median)
    if regular < 0.8 * len(gaps):
        return None
    if 0.75 * 86400 <= median <= 1.25 * 86400:  # daily: say around what time
        return interval(timedelta(days=1), around=_usual_time([t.astimezone(timezone.utc) for t in times]))
    step = 300 if median >= 3600 else 60  # learned from crawl times: to the nearest five minutes (a minute under an hour)
    return interval(timedelta(seconds=max(step, round(median / step) * step)))


def _usual_time(times: list[datetime]) -> time:
    """The circular mean of the times of day (23:50 and 00:10 average to midnight, not noon)."""
    angles = [2 * math.pi * (t.hour * 3600 + t.minute * 60 + t.second) / 86400 for t in times]
    mean = math.atan2(sum(math.sin(a) for a in angles), sum(math.cos(a) for a in angles))
    seconds = round((mean % (2 * math.pi)) / (2 * math.pi) * 86400) % 86400
    minutes = int(round(seconds / 60)) % 1440
    return time(minutes // 60, minutes % 60)
