"""Crawl schedules (catalog/sources/schedules.py) and Canon's beat (catalog/beat/scheduler.py) sending them.

The scheduler publishes to a real Redis (the broker production uses), through a Celery app of its own configured
from the settings as catalog/celery.py's is; what reached the `crawl` queue is read back from Redis."""

from __future__ import annotations

import base64
import json
import logging
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import redis
from celery import Celery
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone as dj_timezone

from catalog.beat.crontab import ZonedCrontab
from catalog.beat.models import BeatRun
from catalog.beat.scheduler import Scheduler
from catalog.sources.models import CrawlSchedule, Source
from catalog.sources.beat import beat_entries
from catalog.sources.schedules import (
    ScheduleError,
    source_schedule_clear,
    source_schedule_describe,
    source_schedule_set,
)
from catalog.sources.services import source_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(warehouse):
    return source_create(name="shop", url=warehouse.url)


def _stored(source) -> CrawlSchedule | None:
    return CrawlSchedule.objects.filter(source_id=source.pk).first()


# --- the schedules ---------------------------------------------------------------------------------------------

def test_an_interval_schedule_is_a_crawl_of_this_source_on_the_crawl_queue(source):
    schedule = source_schedule_set(source, every_minutes=60)
    stored = _stored(source)
    assert stored.pk == schedule.pk and source.schedule == schedule
    assert (stored.every_seconds, stored.cron, stored.enabled) == (3600, "", True)
    assert source_schedule_describe(Source.objects.get(pk=source.pk)) == "every 60 minutes"
    # What beat is given: the task by name, the source's id, the queue, and a tick that expires after one interval.
    entry = beat_entries()[f"canon-crawl-source-{source.pk}"]
    assert (entry["task"], entry["args"], entry["kwargs"]) == ("canon.crawl_source", [source.pk], {"trigger": "schedule"})
    assert entry["options"] == {"queue": "crawl", "expires": 3600}
    assert entry["schedule"] == timedelta(hours=1) and entry["since"] == stored.updated_at


def test_beat_is_given_every_enabled_schedule_and_no_paused_one(source, warehouse):
    other = source_create(name="other", url=warehouse.url)
    source_schedule_set(source, every_seconds=5)
    source_schedule_set(other, cron="30 2 * * 1-5", enabled=False)
    assert list(beat_entries()) == [f"canon-crawl-source-{source.pk}"]
    assert source_schedule_describe(Source.objects.get(pk=other.pk)) == "cron 30 2 * * 1-5 (UTC) (paused)"
    assert source_schedule_describe(Source.objects.get(pk=source.pk)) == "every 5 seconds"


def test_a_cron_schedule_replaces_the_interval_in_the_same_row(source):
    first = source_schedule_set(source, every_minutes=15)
    second = source_schedule_set(source, cron="0  */6 * *   1-5")
    stored = _stored(source)
    assert first.pk == second.pk == stored.pk and CrawlSchedule.objects.count() == 1
    assert (stored.every_seconds, stored.cron) == (None, "0 */6 * * 1-5")
    entry = beat_entries()[f"canon-crawl-source-{source.pk}"]
    assert isinstance(entry["schedule"], ZonedCrontab) and entry["schedule"].zone == settings.TIME_ZONE
    assert entry["schedule"].hour == set(range(0, 24, 6)) and entry["schedule"].day_of_week == {1, 2, 3, 4, 5}
    assert "expires" not in entry["options"]
    assert source_schedule_describe(Source.objects.get(pk=source.pk)) == "cron 0 */6 * * 1-5 (UTC)"


def test_a_cron_schedule_is_read_in_its_time_zone():
    # 3 o'clock in Paris, in December (UTC+1), is 02:00 UTC; in New York (UTC-5), 08:00 UTC.
    last_run = datetime.now(timezone.utc) - timedelta(minutes=1)
    for zone, hour_utc in (("Europe/Paris", 2), ("America/New_York", 8), ("UTC", 3)):
        cron = ZonedCrontab(minute="0", hour="3", zone=zone)
        # (the estimate is from the clock when it was made, a moment after this one)
        due_at = (datetime.now(timezone.utc) + cron.remaining_estimate(last_run) + timedelta(seconds=1)).replace(second=0, microsecond=0)
        assert (due_at.hour, due_at.minute) == (hour_utc, 0), zone
        assert due_at - last_run <= timedelta(days=1, minutes=1)
    assert ZonedCrontab(minute="0", hour="3", zone="Europe/Paris") == ZonedCrontab(minute="0", hour="3", zone="Europe/Paris")
    assert ZonedCrontab(minute="0", hour="3", zone="Europe/Paris") != ZonedCrontab(minute="0", hour="3", zone="UTC")


@pytest.mark.parametrize("cron, message", [
    ("0 * * *", "five fields"),
    ("61 * * * *", "Bad minute field '61'"),
    ("0 25 * * *", "Bad hour field '25'"),
    ("0 0 32 * *", "Bad day of month field '32'"),
    ("0 0 0 * *", "Bad day of month field '0'"),
    ("0 0 * 13 *", "Bad month field '13'"),
    ("0 0 * * funday", "Bad day of week field 'funday'"),
    ("*/x * * * *", "Bad minute field '\\*/x'"),
    ("every hour please", "five fields"),
])
def test_a_bad_cron_is_refused_with_a_clear_message_and_changes_nothing(source, cron, message):
    source_schedule_set(source, every_minutes=10)
    with pytest.raises(ScheduleError, match=message):
        source_schedule_set(source, cron=cron)
    assert (_stored(source).every_seconds, _stored(source).cron) == (600, "")


@pytest.mark.parametrize("kwargs, message", [
    ({}, "either"),
    ({"every_minutes": 5, "cron": "0 * * * *"}, "either"),
    ({"every_minutes": 0}, "at least 1 minute"),
    ({"every_minutes": "soon"}, "whole number"),
    ({"every_seconds": -3}, "at least 1 second"),
])
def test_an_interval_must_be_one_positive_whole_number(source, kwargs, message):
    with pytest.raises(ScheduleError, match=message):
        source_schedule_set(source, **kwargs)
    assert _stored(source) is None


def test_a_paused_schedule_is_kept_but_disabled_and_clear_removes_it(source):
    schedule = source_schedule_set(source, every_minutes=30, enabled=False)
    assert _stored(source).enabled is False
    assert source_schedule_describe(source) == "every 30 minutes (paused)"
    assert beat_entries() == {}
    assert source_schedule_clear(source) is True
    assert source_schedule_describe(source) == "not scheduled" and _stored(source) is None
    assert not CrawlSchedule.objects.filter(pk=schedule.pk).exists()
    assert source_schedule_clear(source) is False


def test_schedule_command_sets_shows_and_clears(source, capsys):
    call_command("schedule", "shop", "--every", "45")
    assert capsys.readouterr().out.strip() == "shop: every 45 minutes"
    assert _stored(source).every_seconds == 45 * 60
    call_command("schedule", "shop", "--cron", "0 * * * *")
    assert capsys.readouterr().out.strip() == "shop: cron 0 * * * * (UTC)"
    call_command("schedule", "shop")
    assert capsys.readouterr().out.strip() == "shop: cron 0 * * * * (UTC)"
    call_command("schedule", "shop", "--off")
    assert capsys.readouterr().out.strip() == "shop: not scheduled"
    assert _stored(source) is None
    call_command("schedule", "shop", "--off")
    assert capsys.readouterr().out.strip() == "shop: not scheduled (it was not)"


def test_schedule_command_errors_are_plain(source):
    with pytest.raises(CommandError, match="no source named 'nope'"):
        call_command("schedule", "nope", "--every", "5")
    with pytest.raises(CommandError, match="Bad hour field '99'"):
        call_command("schedule", "shop", "--cron", "0 99 * * *")
    with pytest.raises(CommandError, match="at least 1 minute"):
        call_command("schedule", "shop", "--every", "0")
    assert _stored(source) is None


def test_deleting_a_source_deletes_its_schedule(source, warehouse):
    schedule = source_schedule_set(source, every_minutes=30)
    other = source_create(name="other", url=warehouse.url)
    kept = source_schedule_set(other, every_minutes=60)
    Source.objects.get(pk=source.pk).delete()
    assert not CrawlSchedule.objects.filter(pk=schedule.pk).exists(), "beat would keep sending crawls of a source that is gone"
    # A queryset delete (the admin's bulk action) too; other sources' schedules stay.
    unscheduled = source_create(name="unscheduled", url=warehouse.url)
    Source.objects.filter(pk=unscheduled.pk).delete()
    assert list(CrawlSchedule.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(beat_entries()) == [f"canon-crawl-source-{other.pk}"]


# --- beat sending them ------------------------------------------------------------------------------------------

@pytest.fixture
def beat_app(redis_server):
    """A Celery app configured as catalog/celery.py's (from the settings), publishing to an emptied Redis, with
    none of the settings' own beat entries unless a test gives some."""
    redis.Redis.from_url(redis_server.url()).flushall()
    app = Celery("canon-beat-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    # Read under the CELERY_ namespace: these are the keys the app looks up.
    app.conf.update({"CELERY_BROKER_URL": redis_server.url(), "CELERY_BROKER_TRANSPORT_OPTIONS": {}, "CELERY_BEAT_SCHEDULE": {}})
    assert app.connection_for_write().as_uri() == redis_server.url()
    yield app
    app.close()


def sent(redis_server, queue: str = "crawl") -> list[tuple]:
    """(task, args, kwargs, expires) of each message published to this queue since the last call, oldest first."""
    client, out = redis.Redis.from_url(redis_server.url()), []
    while (raw := client.rpop(queue)) is not None:
        message = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        out.append((message["headers"]["task"], args, kwargs, message["headers"].get("expires")))
    return out


def run_due(scheduler: Scheduler) -> None:
    """What beat's loop does until nothing is due: tick() sends one due entry per call and returns 0 when it did."""
    for _ in range(50):
        if scheduler.tick() != 0:
            return
    raise AssertionError("beat keeps sending")


def crawl_of(source) -> tuple:
    return ("canon.crawl_source", [source.pk], {"trigger": "schedule"})


def test_beat_sends_a_due_crawl_and_neither_a_paused_nor_a_cleared_one(beat_app, redis_server, warehouse):
    due, paused, cleared = (source_create(name=n, url=warehouse.url) for n in ("due", "paused", "cleared"))
    source_schedule_set(due, every_seconds=1)
    source_schedule_set(paused, every_seconds=1, enabled=False)
    source_schedule_set(cleared, every_seconds=1)
    source_schedule_clear(cleared)
    time.sleep(1.2)
    scheduler = Scheduler(app=beat_app)
    assert scheduler.max_interval == 5  # it wakes up (and reads the schedules again) at least this often
    run_due(scheduler)
    messages = sent(redis_server)
    assert [m[:3] for m in messages] == [crawl_of(due)]
    # The tick expires one interval after it was sent: a tick no worker picked up is dropped.
    expires = datetime.fromisoformat(messages[0][3])
    assert timedelta(0) < expires - dj_timezone.now() <= timedelta(seconds=1)
    run = BeatRun.objects.get(name=f"canon-crawl-source-{due.pk}")
    assert run.total_run_count == 1 and dj_timezone.now() - run.last_run_at < timedelta(seconds=5)
    run_due(scheduler)
    assert sent(redis_server) == [], "sent once per interval"


def test_a_restarted_beat_does_not_send_again_an_interval_that_ran_less_than_an_interval_ago(beat_app, redis_server, source):
    source_schedule_set(source, every_minutes=60)
    # Set an hour ago, so it is due now.
    CrawlSchedule.objects.filter(source=source).update(updated_at=dj_timezone.now() - timedelta(minutes=61))
    first = Scheduler(app=beat_app)
    run_due(first)
    assert [m[:3] for m in sent(redis_server)] == [crawl_of(source)]
    first.close()

    restarted = Scheduler(app=beat_app)  # a new process: what it knows of the last run is the BeatRun row
    run_due(restarted)
    assert sent(redis_server) == [], "a restart must not repeat a run"
    assert restarted.schedule[f"canon-crawl-source-{source.pk}"].total_run_count == 1

    # An hour after that run, a restarted beat sends it again.
    BeatRun.objects.filter(name=f"canon-crawl-source-{source.pk}").update(last_run_at=dj_timezone.now() - timedelta(minutes=61))
    run_due(Scheduler(app=beat_app))
    assert [m[:3] for m in sent(redis_server)] == [crawl_of(source)]
    assert BeatRun.objects.get(name=f"canon-crawl-source-{source.pk}").total_run_count == 2


def test_a_daily_entry_still_runs_daily_when_beat_restarts_every_hour(beat_app, redis_server):
    beat_app.conf.update({"CELERY_BEAT_SCHEDULE": {"canon-audit-prune": {"task": "canon.audit_prune", "schedule": 86400.0}}})
    assert list(Scheduler(app=beat_app, lazy=True).read_entries()) == ["canon-audit-prune"]
    run_due(Scheduler(app=beat_app))
    assert sent(redis_server, "celery") == []
    first_seen = BeatRun.objects.get(name="canon-audit-prune")
    assert first_seen.total_run_count == 0, "the day counts from when beat first saw the entry, restarts or not"
    for hours_ago in range(1, 24):  # beat restarted every hour: the day does not start again each time
        BeatRun.objects.filter(pk=first_seen.pk).update(last_run_at=dj_timezone.now() - timedelta(hours=hours_ago))
        run_due(Scheduler(app=beat_app))
        assert sent(redis_server, "celery") == []
    BeatRun.objects.filter(pk=first_seen.pk).update(last_run_at=dj_timezone.now() - timedelta(hours=24, seconds=1))
    run_due(Scheduler(app=beat_app))
    assert [m[:2] for m in sent(redis_server, "celery")] == [("canon.audit_prune", [])]
    assert BeatRun.objects.get(pk=first_seen.pk).total_run_count == 1


def test_a_schedule_set_changed_paused_or_cleared_while_beat_runs_takes_effect_at_its_next_read(beat_app, redis_server, source):
    scheduler = Scheduler(app=beat_app)
    run_due(scheduler)
    source_schedule_set(source, every_seconds=1)
    time.sleep(1.2)
    run_due(scheduler)
    assert sent(redis_server) == [], "not read yet: beat reads the schedules every few seconds"
    scheduler.refresh_every = 0  # every tick reads them again (5 s in beat)
    run_due(scheduler)
    assert [m[:3] for m in sent(redis_server)] == [crawl_of(source)]

    source_schedule_set(source, every_minutes=60)  # changed: an hour from now
    time.sleep(1.2)
    run_due(scheduler)
    assert sent(redis_server) == []
    source_schedule_set(source, every_seconds=1)
    time.sleep(1.2)
    run_due(scheduler)
    assert [m[:3] for m in sent(redis_server)] == [crawl_of(source)]

    source_schedule_set(source, every_seconds=1, enabled=False)  # paused
    time.sleep(1.2)
    run_due(scheduler)
    assert sent(redis_server) == []
    source_schedule_set(source, every_seconds=1)  # resumed
    time.sleep(1.2)
    run_due(scheduler)
    assert [m[:3] for m in sent(redis_server)] == [crawl_of(source)]

    source_schedule_clear(source)  # cleared
    time.sleep(1.2)
    run_due(scheduler)
    assert sent(redis_server) == [] and list(scheduler.schedule) == []


@pytest.mark.django_db(transaction=True)
def test_a_database_error_while_reading_the_schedules_is_logged_and_beat_goes_on(beat_app, redis_server, warehouse, caplog):
    kept, removed = (source_create(name=n, url=warehouse.url) for n in ("kept", "removed"))
    source_schedule_set(kept, every_seconds=1)
    source_schedule_set(removed, every_seconds=1)
    scheduler = Scheduler(app=beat_app)
    source_schedule_clear(removed)  # beat has not read this yet
    scheduler.refresh_every = 0
    broken = False
    try:
        # The database goes wrong: the tables beat reads and writes are not there.
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE sources_crawlschedule RENAME TO sources_crawlschedule_away")
            cursor.execute("ALTER TABLE beat_beatrun RENAME TO beat_beatrun_away")
        broken = True
        time.sleep(1.2)
        with caplog.at_level(logging.ERROR, logger="catalog.beat.scheduler"):
            assert scheduler.refresh() is False
            run_due(scheduler)  # goes on with what it knew, both sources
        assert "could not read the schedule; going on with the 2 entries known" in caplog.text
        assert "could not record the run" in caplog.text
        assert sorted(m[1] for m in sent(redis_server)) == [[kept.pk], [removed.pk]]
    finally:
        if broken:
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE sources_crawlschedule_away RENAME TO sources_crawlschedule")
                cursor.execute("ALTER TABLE beat_beatrun_away RENAME TO beat_beatrun")
    # Back: the schedules are read again; the cleared one is never sent again, the other goes on.
    for _ in range(2):
        time.sleep(1.2)
        run_due(scheduler)
        assert [m[:3] for m in sent(redis_server)] == [crawl_of(kept)]
    assert list(BeatRun.objects.values_list("name", flat=True)) == [f"canon-crawl-source-{kept.pk}"]


@pytest.mark.postgres_catalog
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("conn_max_age", [0, 60], ids=["a-connection-per-read", "kept-connections"])
def test_beat_survives_its_database_connection_dropped_and_reconnects(beat_app, redis_server, source, caplog, conn_max_age):
    saved = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = conn_max_age  # as DATABASE_URL's ?conn_max_age= sets it
    connection.close()
    try:
        source_schedule_set(source, every_seconds=1)
        scheduler = Scheduler(app=beat_app)
        scheduler.refresh_every = 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        # The server ends beat's session (a restart, a failover, an idle timeout).
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0] is True
        time.sleep(1.2)
        with caplog.at_level(logging.ERROR, logger="catalog.beat.scheduler"):
            run_due(scheduler)
        if conn_max_age:
            # A kept connection fails its next query: logged, and beat goes on with what it knew.
            assert "could not read the schedule; going on with the 1 entries known" in caplog.text
        else:
            # A connection per read: the next read simply opened a new one.
            assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
        assert [m[:3] for m in sent(redis_server)] == [crawl_of(source)]
        # The next read has a working connection: it records the run it owed, and sees the schedule paused meanwhile.
        assert scheduler.refresh() is True
        assert BeatRun.objects.get(name=f"canon-crawl-source-{source.pk}").total_run_count == 1
        source_schedule_set(source, every_seconds=1, enabled=False)
        time.sleep(1.2)
        run_due(scheduler)
        assert sent(redis_server) == [] and list(scheduler.schedule) == []
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = saved
        connection.close()


def test_a_bad_entry_is_left_out_and_a_failing_provider_keeps_what_beat_knew(beat_app, redis_server, source, settings, caplog):
    beat_app.conf.update({"CELERY_BEAT_SCHEDULE": {"canon-bad": {"task": "canon.outbox_flush", "schedule": "soon"},
                                                   "canon-good": {"task": "canon.outbox_flush", "schedule": 3600.0}}})
    source_schedule_set(source, every_seconds=1)
    with caplog.at_level(logging.ERROR, logger="catalog.beat.scheduler"):
        scheduler = Scheduler(app=beat_app)
    assert "entry 'canon-bad' is not valid; left out" in caplog.text
    assert set(scheduler.schedule) == {"canon-good", f"canon-crawl-source-{source.pk}"}
    settings.CANON_BEAT_ENTRIES = ["catalog.sources.beat.beat_entries", "catalog.sources.beat.no_such_provider"]
    scheduler.refresh_every = 0
    time.sleep(1.2)
    with caplog.at_level(logging.ERROR, logger="catalog.beat.scheduler"):
        run_due(scheduler)
    assert "could not read the schedule; going on with the 2 entries known" in caplog.text
    assert [m[:3] for m in sent(redis_server)] == [crawl_of(source)]
