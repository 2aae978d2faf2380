"""Crawl schedules: one CrawlSchedule per source (Source.schedule), an interval or a cron schedule.

Canon's beat (catalog/beat/scheduler.py) reads catalog/sources/beat.py's entries every few seconds and sends `canon.crawl_source`
(catalog/crawls/tasks.py) with the source's id to the `crawl` queue, by name: sources never imports the crawl.
A scheduled crawl that finds another crawl of the same source running is skipped and recorded by source_crawl,
never run alongside it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from catalog.sources.models import CrawlSchedule, Source
from catalog.sources.services import SourceError

# By dotted path: Celery's cron parser and beat's crontab are loaded when a cron schedule is checked, not by every
# page or command that imports this module (the source page's views do).
CRON_PARSER = "celery.schedules.crontab_parser"
CRON_SCHEDULE = "catalog.sources.beat.cron_schedule"
# Each field of 'minute hour day-of-month month day-of-week' with Celery's range for it (max, min).
CRON_FIELDS = (("minute", 60, 0), ("hour", 24, 0), ("day of month", 31, 1), ("month", 12, 1), ("day of week", 7, 0))


class ScheduleError(SourceError):
    """Bad schedule input. The message is safe to show."""


def parse_cron(cron: str) -> str:
    """'m h dom mon dow' -> the five fields, one space apart. Raises ScheduleError naming the bad field."""
    fields = (cron or "").split()
    if len(fields) != 5:
        raise ScheduleError(
            f"A cron schedule is five fields, 'minute hour day-of-month month day-of-week' (e.g. '0 * * * *'); got {cron!r}."
        )
    crontab_parser = import_string(CRON_PARSER)
    for value, (label, most, least) in zip(fields, CRON_FIELDS):
        try:
            crontab_parser(most, least).parse(value)
        except (ValueError, IndexError) as exc:
            raise ScheduleError(f"Bad {label} field {value!r} in cron schedule {cron!r}: {exc}") from None
    # Beat evaluates the schedule with Celery's own crontab: refuse anything it would not take.
    try:
        import_string(CRON_SCHEDULE)(" ".join(fields))
    except Exception as exc:
        raise ScheduleError(f"Cron schedule {cron!r} is not valid: {exc}") from None
    return " ".join(fields)


@transaction.atomic
def source_schedule_set(source: Source, *, every_minutes: int | None = None, cron: str | None = None, enabled: bool = True,
                        every_seconds: int | None = None) -> CrawlSchedule:
    """Crawl this source every N minutes, or on a cron schedule (in settings.TIME_ZONE).

    Exactly one of every_minutes, every_seconds (short intervals, for tests and demos) or cron.
    Replaces the source's previous schedule; enabled=False keeps it but pauses it.
    """
    given = [v is not None and v != "" for v in (every_minutes, every_seconds, cron)]
    if sum(given) != 1:
        raise ScheduleError("Give either an interval in minutes or a cron schedule.")
    if cron is not None and cron != "":
        every, cron = None, parse_cron(cron)
    else:
        period, every = ("minutes", every_minutes) if every_minutes is not None else ("seconds", every_seconds)
        try:
            every = int(every)
        except (TypeError, ValueError):
            raise ScheduleError(f"The interval must be a whole number of {period}; got {every!r}.") from None
        if every < 1:
            raise ScheduleError(f"The interval must be at least 1 {period[:-1]}; got {every}.")
        every, cron = every * (60 if period == "minutes" else 1), ""

    Source.objects.select_for_update().filter(pk=source.pk).first()  # one writer of a source's schedule at a time
    schedule = CrawlSchedule.objects.filter(source_id=source.pk).first() or CrawlSchedule(source=source)
    schedule.every_seconds, schedule.cron, schedule.enabled = every, cron, bool(enabled)
    schedule.save()
    source.schedule = schedule
    return schedule


@transaction.atomic
def source_schedule_clear(source: Source) -> bool:
    """No scheduled crawls for this source any more. True if there was a schedule."""
    Source.objects.select_for_update().filter(pk=source.pk).first()
    schedule = CrawlSchedule.objects.filter(source_id=source.pk).first()
    if Source.schedule.related.is_cached(source):
        Source.schedule.related.delete_cached_value(source)  # source.schedule is read again: "not scheduled"
    if schedule is None:
        return False
    schedule.delete()  # beat drops it at its next read, within seconds
    return True


def schedule_of(source: Source) -> CrawlSchedule | None:
    """The source's schedule, or None (read once; select_related("schedule") reads it with the source)."""
    try:
        return source.schedule
    except CrawlSchedule.DoesNotExist:
        return None


def interval_text(seconds: int) -> str:
    """'every 30 seconds', 'every 1 minute', 'every 60 minutes': in minutes when they are whole."""
    every, period = (seconds // 60, "minute") if seconds % 60 == 0 else (seconds, "second")
    return f"every {every} {period}{'' if every == 1 else 's'}"


def source_schedule_describe(source: Source) -> str:
    """'every 60 minutes', 'cron 0 * * * * (UTC)', '... (paused)' or 'not scheduled'."""
    schedule = schedule_of(source)
    if schedule is None:
        return "not scheduled"
    if schedule.every_seconds is not None:
        text = interval_text(schedule.every_seconds)
    else:
        text = f"cron {schedule.cron} ({settings.TIME_ZONE})"
    return text if schedule.enabled else f"{text} (paused)"
