"""The crawl lease: one crawl per source, and a crawl whose worker died blocks nothing for long."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from catalog.connectors import connector_for
from catalog.history.models import SchemaChange
from catalog.inventory.models import Dataset
from catalog.crawls.lease import CrawlHeartbeat, crawls_dead, lease_acquire, lease_held, lease_release, lease_renew
from catalog.sources.models import Crawl, Source
from catalog.crawls.services import crawl_enqueue, crawl_reap_dead, source_crawl
from catalog.sources.services import source_create
from catalog.crawls.tasks import crawl_reap_dead_task, crawl_source_task
from tests.shop import build_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    return warehouse


@pytest.fixture
def source(shop):
    return source_create(name="shop", url=shop.url)


@pytest.fixture(autouse=True)
def short_heartbeat(settings):
    """A heartbeat every second; a crawl silent for 3 s is dead."""
    settings.CANON_CRAWL_HEARTBEAT_SECONDS, settings.CANON_CRAWL_STALE_HEARTBEATS = 1.0, 3


def _running(source, *, beat_ago: float | None, started_ago: float = 60.0, status: str = Crawl.RUNNING) -> Crawl:
    """A crawl holding the source's lease, last stamped beat_ago seconds ago (None: never)."""
    now = timezone.now()
    crawl = Crawl.objects.create(source=source, status=status, phase="reading metadata", started_at=now - timedelta(seconds=started_ago),
                                 heartbeat_at=None if beat_ago is None else now - timedelta(seconds=beat_ago))
    Source.objects.filter(pk=source.pk).update(crawl_lease_holder=crawl, last_crawl=crawl)
    return crawl


def _new(source) -> Crawl:
    return Crawl.objects.create(source=source, status=Crawl.QUEUED, started_at=timezone.now())


# The lease itself.

def test_a_holder_whose_heartbeat_is_older_than_the_stale_limit_is_taken_over(source):
    old = _running(source, beat_ago=3.5)
    crawl = _new(source)
    assert lease_acquire(source, crawl)
    assert lease_held(source, crawl) and not lease_held(source, old)
    assert [c.pk for c in crawls_dead()] == [old.pk]
    lease_release(source, old)  # a crawl taken over cannot free its successor's lease
    assert lease_held(source, crawl)


@pytest.mark.parametrize("status", [Crawl.RUNNING, Crawl.QUEUED])
def test_a_holder_with_a_live_heartbeat_keeps_the_lease(source, status):
    holder = _running(source, beat_ago=2.5, status=status)
    crawl = _new(source)
    assert not lease_acquire(source, crawl)
    assert lease_held(source, holder) and not crawls_dead().exists()


@pytest.mark.parametrize("status", [Crawl.SUCCEEDED, Crawl.FAILED, Crawl.HELD])
def test_a_finished_holder_holds_nothing(source, status):
    _running(source, beat_ago=0, status=status)
    assert lease_acquire(source, _new(source))


def test_a_running_crawl_from_before_heartbeats_is_judged_by_its_start(source):
    assert not crawls_dead().exists()
    _running(source, beat_ago=None, started_ago=2)
    assert not crawls_dead().exists()
    old = _running(source, beat_ago=None, started_ago=10)
    assert list(crawls_dead()) == [old]
    assert lease_acquire(source, _new(source))


def test_two_crawls_asking_at_once_get_one_lease(source):
    first, second = _new(source), _new(source)
    assert lease_acquire(source, first)
    assert not lease_acquire(source, second)
    lease_release(source, first)
    assert lease_acquire(source, second)


# The heartbeat thread.

@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_stamps_a_running_crawl_until_stopped(source):
    crawl = _running(source, beat_ago=30)
    before = Crawl.objects.get(pk=crawl.pk).heartbeat_at
    heartbeat = CrawlHeartbeat(crawl.pk, interval=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while Crawl.objects.get(pk=crawl.pk).heartbeat_at == before:
            assert time.monotonic() < deadline, "no heartbeat within 10 s"
            time.sleep(0.05)
        assert not crawls_dead().exists()
    finally:
        heartbeat.stop()
    assert not any(t.name == f"crawl-{crawl.pk}-heartbeat" for t in threading.enumerate())
    stamped = Crawl.objects.get(pk=crawl.pk).heartbeat_at
    time.sleep(0.2)
    assert Crawl.objects.get(pk=crawl.pk).heartbeat_at == stamped, "a stopped heartbeat stamps nothing"


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_ends_by_itself_once_its_crawl_is_over(source):
    crawl = _running(source, beat_ago=0)
    heartbeat = CrawlHeartbeat(crawl.pk, interval=0.05).start()
    thread = heartbeat._thread
    Crawl.objects.filter(pk=crawl.pk).update(status=Crawl.FAILED)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert not lease_renew(crawl.pk)
    heartbeat.stop()


@pytest.mark.django_db(transaction=True)
def test_the_crawl_command_heartbeats_while_it_reads_the_warehouse(source, shop, pg, settings, capsys):
    """`manage.py crawl` runs in the foreground with no worker: its crawl beats all the same. (Beats every 0.4 s,
    dead after three missed: long enough that a loaded machine's slow write is not a missed beat.)"""
    settings.CANON_CRAWL_HEARTBEAT_SECONDS = 0.4
    blocker = pg.connect(shop.name)
    errors = []

    def crawl():
        try:
            call_command("crawl", "shop")
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    command = threading.Thread(target=crawl)
    try:
        with blocker.transaction():
            # A migration holds a lock the crawl's catalog query waits for: the crawl is slow, not dead.
            blocker.execute("LOCK TABLE sales.customers IN ACCESS EXCLUSIVE MODE")
            command.start()
            deadline = time.monotonic() + 30
            while not Crawl.objects.filter(source=source, status=Crawl.RUNNING, phase="reading metadata").exists():
                assert time.monotonic() < deadline and command.is_alive(), f"the crawl did not start: {errors}"
                time.sleep(0.05)
            running = Crawl.objects.get(source=source)
            first = running.heartbeat_at
            time.sleep(2.0)  # five beats; three intervals without one would make it dead
            assert Crawl.objects.get(pk=running.pk).heartbeat_at > first
            assert crawl_reap_dead() == 0
            assert not lease_acquire(source, _new(source))
    finally:
        blocker.close()
    command.join(timeout=60)
    assert not errors
    done = Crawl.objects.get(pk=running.pk)
    assert done.status == Crawl.SUCCEEDED and done.datasets_added == 7
    assert "7 datasets seen" in capsys.readouterr().out


# What the crawl service does with it.

def test_crawl_now_never_answers_with_a_dead_crawl(source):
    dead = _running(source, beat_ago=10)
    fresh = crawl_enqueue(source)
    assert fresh.pk != dead.pk and fresh.status == Crawl.QUEUED
    dead.refresh_from_db()
    assert dead.status == Crawl.FAILED and dead.error.startswith("the worker stopped: this crawl sent no heartbeat for 3 s")
    assert dead.phase == "" and dead.finished_at is not None and dead.duration_s == 50.0
    source.refresh_from_db()
    assert source.crawl_lease_holder_id is None and source.failure_streak == 1


def test_crawl_now_answers_with_a_crawl_that_is_alive(source):
    alive = _running(source, beat_ago=1)
    assert crawl_enqueue(source).pk == alive.pk
    alive.refresh_from_db()
    assert alive.status == Crawl.RUNNING


def test_a_scheduled_crawl_takes_over_from_a_dead_one(source):
    dead = _running(source, beat_ago=10)
    crawl = source_crawl(source, trigger="schedule")
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    dead.refresh_from_db()
    assert dead.status == Crawl.FAILED and dead.error.startswith("the worker stopped")
    source.refresh_from_db()
    assert source.crawl_lease_holder_id is None and source.last_crawl_id == crawl.pk
    assert source.failure_streak == 0  # the dead crawl counted once; the success after it reset the count


def test_a_scheduled_crawl_is_skipped_while_a_live_one_runs(source):
    alive = _running(source, beat_ago=1)
    crawl = source_crawl(source, trigger="schedule")
    assert crawl.status == Crawl.SKIPPED and crawl.error == f"another crawl of this source is running (crawl #{alive.pk})"
    alive.refresh_from_db()
    assert alive.status == Crawl.RUNNING
    source.refresh_from_db()
    assert source.crawl_lease_holder_id == alive.pk


def test_the_periodic_task_marks_only_dead_crawls_and_each_once(shop):
    dead_source, live_source = source_create(name="dead", url=shop.url), source_create(name="live", url=shop.url)
    dead, alive = _running(dead_source, beat_ago=10), _running(live_source, beat_ago=1)
    assert crawl_reap_dead_task.apply().get() == 1
    assert crawl_reap_dead() == 0
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, alive.status) == (Crawl.FAILED, Crawl.RUNNING)
    assert Source.objects.get(pk=dead_source.pk).failure_streak == 1
    assert Source.objects.get(pk=live_source.pk).crawl_lease_holder_id == alive.pk


def test_a_crawl_taken_over_while_it_ran_applies_nothing(source, shop):
    """A crawl whose heartbeat stopped (its process paused, say) and that carries on after another
    crawl took its lease: it must not apply its extraction, nor overwrite the record of its death."""
    assert source_crawl(source).status == Crawl.SUCCEEDED
    shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    connector = connector_for(shop.url)
    extract = connector.extract
    successors = []

    def stalled(request):
        answer = extract(request)
        Crawl.objects.filter(status=Crawl.RUNNING).update(heartbeat_at=timezone.now() - timedelta(seconds=10))
        successors.append(source_crawl(Source.objects.get(pk=source.pk)))
        return answer

    connector.extract = stalled
    stale = source_crawl(source, connector=connector)
    successor = successors[0]
    assert successor.status == Crawl.SUCCEEDED and successor.datasets_changed == 1
    assert stale.status == Crawl.FAILED and stale.error.startswith("the worker stopped")
    assert Crawl.objects.get(pk=stale.pk).error == stale.error and stale.datasets_seen == 0
    assert Dataset.objects.get(name="customers").versions.count() == 2, "the change is recorded once, by the crawl that took over"
    assert not SchemaChange.objects.filter(crawl=stale).exists()
    source.refresh_from_db()
    assert source.crawl_lease_holder_id is None and source.last_success_at == successor.finished_at
    assert source.failure_streak == 0


def test_a_redelivered_task_of_a_dead_crawl_does_nothing(source):
    dead = _running(source, beat_ago=10)
    crawl_reap_dead(source)
    crawl_source_task.apply(args=[source.pk], kwargs={"crawl_id": dead.pk})
    assert list(source.crawls.values_list("pk", flat=True)) == [dead.pk]
    assert Crawl.objects.get(pk=dead.pk).status == Crawl.FAILED
