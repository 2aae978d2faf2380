"""Crawl schedules: one django-celery-beat PeriodicTask per source, kept in Source.schedule.

Beat (DatabaseScheduler) reads these rows and sends `canon.crawl_source` (catalog/crawls/tasks.py) with
the source's id to the `crawl` queue, by name: sources never imports the crawl. A scheduled crawl that finds another crawl of the
same source running is skipped and recorded by source_crawl, never run alongside it.
"""

from __future__ import annotations

import json

from celery.schedules import crontab as celery_crontab
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django_celery_beat import validators
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from catalog.sources.models import Source
from catalog.sources.services import SourceError

CRAWL_TASK = "canon.crawl_source"
CRAWL_QUEUE = "crawl"
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
CRON_FIELD_LABELS = ("minute", "hour", "day of month", "month", "day of week")


class ScheduleError(SourceError):
    """Bad schedule input. The message is safe to show."""


def parse_cron(cron: str) -> dict[str, str]:
    """'m h dom mon dow' -> CrontabSchedule fields. Raises ScheduleError naming the bad field."""
    fields = (cron or "").split()
    if len(fields) != 5:
        raise ScheduleError(
            f"A cron schedule is five fields, 'minute hour day-of-month month day-of-week' (e.g. '0 * * * *'); got {cron!r}."
        )
    checks = (validators.minute_validator, validators.hour_validator, validators.day_of_month_validator,
              validators.month_of_year_validator, validators.day_of_week_validator)
    for value, label, check in zip(fields, CRON_FIELD_LABELS, checks):
        try:
            check(value)
        except (ValidationError, ValueError) as exc:
            reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise ScheduleError(f"Bad {label} field {value!r} in cron schedule {cron!r}: {reason}") from None
    parsed = dict(zip(CRON_FIELDS, fields))
    # Beat evaluates the schedule with Celery's own parser: refuse anything it would not take.
    try:
        celery_crontab(**parsed)
    except Exception as exc:
        raise ScheduleError(f"Cron schedule {cron!r} is not valid: {exc}") from None
    return parsed


@transaction.atomic
def source_schedule_set(source: Source, *, every_minutes: int | None = None, cron: str | None = None, enabled: bool = True,
                        every_seconds: int | None = None) -> PeriodicTask:
    """Crawl this source every N minutes, or on a cron schedule (in settings.TIME_ZONE).

    Exactly one of every_minutes, every_seconds (short intervals, for tests and demos) or cron.
    Replaces the source's previous schedule; enabled=False keeps it but pauses it.
    """
    given = [v is not None and v != "" for v in (every_minutes, every_seconds, cron)]
    if sum(given) != 1:
        raise ScheduleError("Give either an interval in minutes or a cron schedule.")
    interval = crontab = None
    if cron is not None and cron != "":
        crontab, _ = CrontabSchedule.objects.get_or_create(**parse_cron(cron), timezone=settings.TIME_ZONE)
        expire_seconds = None
    else:
        period, every = (IntervalSchedule.MINUTES, every_minutes) if every_minutes is not None else (IntervalSchedule.SECONDS, every_seconds)
        try:
            every = int(every)
        except (TypeError, ValueError):
            raise ScheduleError(f"The interval must be a whole number of {period}; got {every!r}.") from None
        if every < 1:
            raise ScheduleError(f"The interval must be at least 1 {period[:-1]}; got {every}.")
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        # A tick nobody picked up before the next one is dropped by the worker, so a stopped
        # worker does not come back to a queue of identical crawls.
        expire_seconds = every * (60 if period == IntervalSchedule.MINUTES else 1)

    locked = Source.objects.select_for_update().get(pk=source.pk)
    task = locked.schedule or PeriodicTask(name=f"canon: crawl source #{source.pk}")
    task.description = f"Crawl the source '{source.name}'"
    task.task = CRAWL_TASK
    task.args = json.dumps([source.pk])
    task.kwargs = json.dumps({"trigger": "schedule"})
    task.queue = CRAWL_QUEUE
    task.interval, task.crontab = interval, crontab
    task.solar = task.clocked = None
    task.one_off = False
    task.expire_seconds = expire_seconds
    task.expires = None
    task.enabled = bool(enabled)
    task.save()
    Source.objects.filter(pk=source.pk).update(schedule=task)
    source.schedule = task
    return task


@transaction.atomic
def source_schedule_clear(source: Source) -> bool:
    """No scheduled crawls for this source any more. True if there was a schedule."""
    task = Source.objects.select_for_update().get(pk=source.pk).schedule
    Source.objects.filter(pk=source.pk).update(schedule=None)
    source.schedule = None
    if task is None:
        return False
    task.delete()  # also tells beat its schedule changed
    return True


def source_schedule_describe(source: Source) -> str:
    """'every 60 minutes', 'cron 0 * * * * (UTC)', '... (paused)' or 'not scheduled'."""
    task = source.schedule
    if task is None:
        return "not scheduled"
    if task.interval_id:
        every, period = task.interval.every, task.interval.period
        text = f"every {every} {period[:-1] if every == 1 else period}"
    elif task.crontab_id:
        c = task.crontab
        text = f"cron {c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week} ({c.timezone})"
    else:
        text = str(task.schedule)
    return text if task.enabled else f"{text} (paused)"
