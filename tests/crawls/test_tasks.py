"""Crawl tasks in a real Celery worker (Redis broker, catalog on the test PostgreSQL), killed mid-crawl."""

from __future__ import annotations

import os
import signal

import pytest

from catalog.alerts.models import OutboxMessage
from catalog.history.models import SchemaChange
from catalog.inventory.models import Column, Dataset, SchemaVersion
from catalog.sources.models import Crawl, Source
from catalog.crawls.services import crawl_enqueue, source_crawl
from catalog.sources.services import source_create
from catalog.crawls.tasks import crawl_source_task
# The real worker, its Redis broker and its environment, as the alerts' end-to-end tests start them.
from tests.alerts.test_e2e_celery import broker, smtp, start_worker, wait_until, worker_env  # noqa: F401
from tests.shop import build_shop

pytestmark = [pytest.mark.postgres_catalog, pytest.mark.django_db(transaction=True)]

# A beat every half second; a crawl silent for 2 s is dead; beat looks for dead crawls every second.
HEARTBEAT = {"CANON_CRAWL_HEARTBEAT_SECONDS": "0.5", "CANON_CRAWL_STALE_HEARTBEATS": "4"}


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    return warehouse


def _catalog(source) -> dict:
    """Everything a crawl could write, to compare before and after."""
    return {
        "datasets": list(Dataset.objects.filter(source=source).order_by("pk").values()),
        "columns": Column.objects.count(),
        "versions": SchemaVersion.objects.count(),
        "changes": SchemaChange.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "last_success_at": Source.objects.get(pk=source.pk).last_success_at,
    }


def _wait(condition, timeout: float, what: str, *workers):
    """wait_until, saying on a timeout where the crawls were and what the workers logged."""
    try:
        return wait_until(condition, timeout, 0.1, what)
    except AssertionError as exc:
        crawls = list(Crawl.objects.order_by("pk").values("pk", "status", "phase", "error", "heartbeat_at"))
        logs = "\n".join(f"--- {w.name}:\n{w.log()[-3000:]}" for w in workers)
        raise AssertionError(f"{exc}\ncrawls: {crawls}\n{logs}") from None


def test_a_worker_killed_mid_crawl_blocks_its_source_for_seconds_not_an_hour(shop, pg, start_worker, settings):
    settings.CANON_CRAWL_HEARTBEAT_SECONDS, settings.CANON_CRAWL_STALE_HEARTBEATS = 0.5, 4
    source = source_create(name="shop", url=shop.url)
    baseline = source_crawl(source)
    assert baseline.status == Crawl.SUCCEEDED
    shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    # New files for the table: the next crawl must read its size, which waits for the lock taken below.
    shop.execute("VACUUM FULL sales.customers")
    before = _catalog(source)
    doomed_worker = start_worker(**HEARTBEAT)

    blocker = pg.connect(shop.name)
    try:
        with blocker.transaction():
            # A migration holds a lock the crawl's size query waits for: the crawl is mid-way, and stays there.
            blocker.execute("LOCK TABLE sales.customers IN ACCESS EXCLUSIVE MODE")
            doomed = crawl_enqueue(source, trigger="web")
            running = _wait(lambda: Crawl.objects.filter(pk=doomed.pk, status=Crawl.RUNNING, phase="reading metadata").first(),
                            20, "the worker to start the crawl", doomed_worker)
            # Blocked, but alive: its heartbeat goes on, and "crawl now" answers with it.
            _wait(lambda: Crawl.objects.get(pk=doomed.pk).heartbeat_at > running.heartbeat_at, 10, "a heartbeat", doomed_worker)
            assert crawl_enqueue(source, trigger="web").pk == doomed.pk

            os.killpg(doomed_worker.process.pid, signal.SIGKILL)  # worker, beat and pool: no warm shutdown
            doomed_worker.process.wait(timeout=10)
            assert Crawl.objects.get(pk=doomed.pk).status == Crawl.RUNNING  # nobody has looked yet

            # With no crawl asked for, beat in a new worker finds the dead crawl within seconds.
            worker = start_worker(**HEARTBEAT)
            dead = _wait(lambda: Crawl.objects.filter(pk=doomed.pk, status=Crawl.FAILED).first(), 20,
                         "the dead crawl to be marked failed", worker)
            assert dead.error.startswith("the worker stopped: this crawl sent no heartbeat for 2 s"), dead.error
            assert dead.phase == "" and dead.datasets_seen == 0
            assert _catalog(source) == before, "a crawl that died applied nothing"
            assert Source.objects.get(pk=source.pk).crawl_lease_holder_id is None

            # Its message again (Redis hands an unacknowledged task out again): nothing is crawled twice.
            again = crawl_source_task.delay(source.pk, crawl_id=doomed.pk)
            _wait(lambda: f"canon.crawl_source[{again.id}] succeeded" in worker.log(), 20, "the redelivered task", worker)
            assert sorted(source.crawls.values_list("pk", flat=True)) == [baseline.pk, doomed.pk]
    finally:
        blocker.close()

    # "Crawl now" queues a fresh crawl, which the new worker runs to the end.
    fresh = crawl_enqueue(source, trigger="web")
    assert fresh.pk != doomed.pk
    done = _wait(lambda: Crawl.objects.filter(pk=fresh.pk).exclude(status__in=Crawl.ACTIVE).first(), 30, "the fresh crawl", worker)
    assert done.status == Crawl.SUCCEEDED, done.error
    assert (done.datasets_added, done.datasets_changed) == (0, 1)
    assert set(SchemaChange.objects.filter(crawl=done).values_list("dataset_name", "kind", "column")) == {
        ("sales.customers", "column_added", "phone")}
    assert Crawl.objects.get(pk=doomed.pk).status == Crawl.FAILED
    assert Source.objects.get(pk=source.pk).failure_streak == 0
