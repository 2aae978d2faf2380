"""The sources' crawl schedules as beat entries (settings.CANON_BEAT_ENTRIES lists beat_entries). Loaded by beat,
and by schedules.parse_cron to check a cron the way beat will read it; pages and commands do not load it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from catalog.beat.crontab import ZonedCrontab
from catalog.sources.models import CrawlSchedule

CRAWL_TASK = "canon.crawl_source"
CRAWL_QUEUE = "crawl"


def cron_schedule(cron: str) -> ZonedCrontab:
    minute, hour, day_of_month, month_of_year, day_of_week = cron.split()
    return ZonedCrontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
                        day_of_week=day_of_week, zone=settings.TIME_ZONE)


def beat_entries() -> dict[str, dict]:
    """One beat entry per enabled schedule: `canon.crawl_source` by name with the source's id, on the `crawl` queue.
    An interval's tick expires after one interval: a tick no worker picked up before the next one is dropped, so a
    stopped worker does not come back to a queue of identical crawls. Each counts from when it was set or changed
    ("since")."""
    entries = {}
    for schedule in CrawlSchedule.objects.filter(enabled=True).order_by("source_id"):
        options = {"queue": CRAWL_QUEUE}
        if schedule.every_seconds is not None:
            when = timedelta(seconds=schedule.every_seconds)
            options["expires"] = schedule.every_seconds
        else:
            when = cron_schedule(schedule.cron)
        entries[f"canon-crawl-source-{schedule.source_id}"] = {
            "task": CRAWL_TASK, "schedule": when, "args": [schedule.source_id], "kwargs": {"trigger": "schedule"},
            "options": options, "since": schedule.updated_at,
        }
    return entries
