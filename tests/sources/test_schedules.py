import json

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

from catalog.celery import app as celery_app
from catalog.sources.models import Source
from catalog.sources.schedules import ScheduleError, source_schedule_clear, source_schedule_describe, source_schedule_set
from catalog.sources.services import source_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(warehouse):
    return source_create(name="shop", url=warehouse.url)


def _stored(source) -> PeriodicTask:
    return Source.objects.select_related("schedule__interval", "schedule__crontab").get(pk=source.pk).schedule


def test_an_interval_schedule_sends_a_crawl_of_this_source_to_the_crawl_queue(source):
    task = source_schedule_set(source, every_minutes=60)
    stored = _stored(source)
    assert stored.pk == task.pk and source.schedule == task
    assert (stored.task, json.loads(stored.args), stored.queue, stored.enabled) == ("canon.crawl_source", [source.pk], "crawl", True)
    assert (stored.interval.every, stored.interval.period, stored.crontab) == (60, IntervalSchedule.MINUTES, None)
    # What beat's DatabaseScheduler makes of the row: the task, its arguments and its queue.
    entry = ModelEntry(stored, app=celery_app)
    assert entry.task == "canon.crawl_source" and entry.args == [source.pk]
    assert entry.options["queue"] == "crawl"
    assert entry.schedule.run_every.total_seconds() == 3600
    assert source_schedule_describe(stored.canon_source) == "every 60 minutes"


def test_beat_loads_every_enabled_source_schedule(source, warehouse):
    other = source_create(name="other", url=warehouse.url)
    source_schedule_set(source, every_seconds=5)
    source_schedule_set(other, cron="30 2 * * 1-5", enabled=False)
    scheduler = DatabaseScheduler(app=celery_app, lazy=True)
    entries = {entry.args[0]: entry for entry in scheduler.all_as_schedule().values() if entry.task == "canon.crawl_source"}
    assert list(entries) == [source.pk]  # the paused one is not loaded
    assert entries[source.pk].schedule.run_every.total_seconds() == 5


def test_a_cron_schedule_replaces_the_interval_on_the_same_task(source):
    first = source_schedule_set(source, every_minutes=15)
    second = source_schedule_set(source, cron="0 */6 * * 1-5")
    stored = _stored(source)
    assert first.pk == second.pk == stored.pk
    assert PeriodicTask.objects.filter(task="canon.crawl_source").count() == 1
    assert stored.interval is None
    c = stored.crontab
    assert (c.minute, c.hour, c.day_of_month, c.month_of_year, c.day_of_week) == ("0", "*/6", "*", "*", "1-5")
    assert ModelEntry(stored, app=celery_app).schedule.hour == set(range(0, 24, 6))
    assert source_schedule_describe(stored.canon_source) == "cron 0 */6 * * 1-5 (UTC)"


@pytest.mark.parametrize("cron, message", [
    ("0 * * *", "five fields"),
    ("61 * * * *", "Bad minute field '61'"),
    ("0 25 * * *", "Bad hour field '25'"),
    ("0 0 32 * *", "Bad day of month field '32'"),
    ("0 0 * 13 *", "Bad month field '13'"),
    ("0 0 * * funday", "Bad day of week field 'funday'"),
    ("every hour please", "five fields"),
])
def test_a_bad_cron_is_refused_with_a_clear_message_and_changes_nothing(source, cron, message):
    source_schedule_set(source, every_minutes=10)
    with pytest.raises(ScheduleError, match=message):
        source_schedule_set(source, cron=cron)
    assert _stored(source).interval.every == 10
    assert not CrontabSchedule.objects.exists()


@pytest.mark.parametrize("kwargs, message", [
    ({}, "either"),
    ({"every_minutes": 5, "cron": "0 * * * *"}, "either"),
    ({"every_minutes": 0}, "at least 1 minute"),
    ({"every_minutes": "soon"}, "whole number"),
])
def test_an_interval_must_be_one_positive_whole_number(source, kwargs, message):
    with pytest.raises(ScheduleError, match=message):
        source_schedule_set(source, **kwargs)
    assert _stored(source) is None


def test_a_paused_schedule_is_kept_but_disabled_and_clear_removes_it(source):
    task = source_schedule_set(source, every_minutes=30, enabled=False)
    assert _stored(source).enabled is False
    assert source_schedule_describe(_stored(source).canon_source) == "every 30 minutes (paused)"
    assert source_schedule_clear(source) is True
    assert source.schedule is None and _stored(source) is None
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
    assert source_schedule_clear(source) is False


def test_schedule_command_sets_shows_and_clears(source, capsys):
    call_command("schedule", "shop", "--every", "45")
    assert capsys.readouterr().out.strip() == "shop: every 45 minutes"
    assert _stored(source).interval.every == 45
    call_command("schedule", "shop", "--cron", "0 * * * *")
    assert capsys.readouterr().out.strip() == "shop: cron 0 * * * * (UTC)"
    call_command("schedule", "shop")
    assert capsys.readouterr().out.strip() == "shop: cron 0 * * * * (UTC)"
    call_command("schedule", "shop", "--off")
    assert capsys.readouterr().out.strip() == "shop: not scheduled"
    assert _stored(source) is None and not PeriodicTask.objects.filter(task="canon.crawl_source").exists()


def test_schedule_command_errors_are_plain(source):
    with pytest.raises(CommandError, match="no source named 'nope'"):
        call_command("schedule", "nope", "--every", "5")
    with pytest.raises(CommandError, match="Bad hour field '99'"):
        call_command("schedule", "shop", "--cron", "0 99 * * *")
    with pytest.raises(CommandError, match="at least 1 minute"):
        call_command("schedule", "shop", "--every", "0")
    assert _stored(source) is None


def test_deleting_a_source_deletes_its_schedule(source, warehouse):
    task = source_schedule_set(source, every_minutes=30)
    other = source_create(name="other", url=warehouse.url)
    kept = source_schedule_set(other, every_minutes=60)
    Source.objects.get(pk=source.pk).delete()
    assert not PeriodicTask.objects.filter(pk=task.pk).exists(), "beat would keep sending crawls of a source that is gone"
    # A queryset delete (the admin's bulk action) too; other sources' schedules stay.
    unscheduled = source_create(name="unscheduled", url=warehouse.url)
    Source.objects.filter(pk=unscheduled.pk).delete()
    assert list(PeriodicTask.objects.filter(name__startswith="canon:").values_list("pk", flat=True)) == [kept.pk]
