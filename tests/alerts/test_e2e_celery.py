"""End to end with the real parts: a Redis broker, a `celery -A catalog worker -B` process
(worker and beat) reading the test database, a PostgreSQL warehouse, and an SMTP server
on loopback (aiosmtpd). The catalog must be on PostgreSQL: another process reads it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from catalog.alerts.models import OutboxMessage, Subscription
from catalog.alerts.services import outbox_flush, subscription_create
from catalog.alerts.tasks import outbox_flush_task
from catalog.celery import app as celery_app
from catalog.history.models import SchemaChange
from catalog.sources.models import Crawl
from catalog.sources.schedules import source_schedule_set
from catalog.crawls.services import crawl_enqueue, source_crawl
from catalog.sources.services import source_create
from catalog.crawls.tasks import crawl_source_task
from tests.harness import SMTPServer
from tests.shop import build_shop

pytestmark = [pytest.mark.postgres_catalog, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition, timeout: float = 20.0, interval: float = 0.2, message: str = "condition"):
    """Poll until condition() is truthy; return its value.

    Timeouts are for a quiet machine; CANON_TEST_TIMEOUT_SCALE (default 3) stretches them on a
    busy one. Polling returns as soon as the condition holds, so a larger scale costs nothing."""
    timeout *= float(os.environ.get("CANON_TEST_TIMEOUT_SCALE", "3"))
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class CeleryWorker:
    """`celery -A catalog worker -B` in its own process group, logging to a file."""

    def __init__(self, env: dict, directory: Path, concurrency: int = 2):
        self.env, self.directory, self.concurrency = env, directory, concurrency
        self.name = f"e2e-{uuid.uuid4().hex[:6]}"
        self.log_path = directory / f"{self.name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "CeleryWorker":
        command = [sys.executable, "-m", "celery", "-A", "catalog", "worker", "-B", "-Q", "crawl,notify,celery",
                   "--concurrency", str(self.concurrency), "--loglevel", "INFO", "--hostname", f"{self.name}@%h",
                   "--schedule", str(self.directory / f"{self.name}-beat"),
                   "--without-gossip", "--without-mingle", "--without-heartbeat"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_until(lambda: " ready." in self.log() or self.process.poll() is not None, timeout, 0.2, "the worker to be ready")
        if self.process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited: {self.log()[-3000:]}")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def broker(redis_server):
    """Redis, emptied, and this process's Celery app publishing to it (the settings give the folder broker)."""
    import redis

    redis.Redis.from_url(redis_server.url()).flushall()
    conf = celery_app.conf
    # The app reads Django settings under the CELERY_ namespace: these are the keys it looks up.
    keys = ("CELERY_BROKER_URL", "CELERY_BROKER_TRANSPORT_OPTIONS")
    saved = {key: conf.get(key) for key in keys}
    _drop_broker_pools()
    conf.update({"CELERY_BROKER_URL": redis_server.url(), "CELERY_BROKER_TRANSPORT_OPTIONS": {}})
    assert celery_app.connection_for_write().as_uri() == redis_server.url()
    yield redis_server
    _drop_broker_pools()
    conf.update(saved)


def _drop_broker_pools():
    """Forget pooled connections and producers, which keep the broker they were made for: an
    earlier test that published to the folder broker must not make these publish there."""
    from kombu import pools

    celery_app.close()
    celery_app.amqp._producer_pool = None
    pools.reset()


@pytest.fixture
def smtp(settings):
    """The SMTP server (not yet started) that the worker, and this process too, send to."""
    server = SMTPServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = server.host, server.port, False, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def worker_env(broker, smtp, live_server, transactional_db):
    db = settings.DATABASES["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql" and db["NAME"].startswith("test_")
    return {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker.url(),
        "EMAIL_URL": smtp.url,
        "CANON_ENCRYPTION_KEY": os.environ["CANON_ENCRYPTION_KEY"],
        "CANON_VAR_DIR": os.environ["CANON_VAR_DIR"],
        "CANON_OUTBOX_FLUSH_SECONDS": "1",
        "CANON_OUTBOX_RETRY_SECONDS": "1",
        "CANON_BASE_URL": live_server.url,
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def start_worker(worker_env, tmp_path):
    """Start the worker when the test has set the stage; stopped before the database is flushed."""
    started: list[CeleryWorker] = []

    def start(**env) -> CeleryWorker:
        worker = CeleryWorker({**worker_env, **env}, tmp_path)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    return warehouse


def _parts(message) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def test_a_scheduled_crawl_in_the_worker_emails_the_change_once(shop, start_worker, smtp, staff_user):
    smtp.start()
    source = source_create(name="shop", url=shop.url)
    subscription = subscription_create(user=staff_user, source=source)
    baseline = source_crawl(source)
    assert baseline.status == Crawl.SUCCEEDED, baseline.error
    assert not OutboxMessage.objects.exists()  # the first crawl is the baseline: nothing to tell

    shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    shop.execute("ALTER TABLE sales.customers DROP COLUMN country")
    source_schedule_set(source, every_seconds=2)
    worker = start_worker()

    def scheduled_crawls():
        return list(source.crawls.filter(trigger="schedule", status=Crawl.SUCCEEDED).order_by("started_at"))

    first = wait_until(scheduled_crawls, 25, message="a scheduled crawl in the worker")[0]
    changes = {(c.dataset_name, c.kind, c.column, c.severity) for c in SchemaChange.objects.filter(crawl=first)}
    assert changes == {("sales.customers", "column_added", "phone", "non_breaking"),
                       ("sales.customers", "column_removed", "country", "breaking")}, worker.log()[-3000:]

    message = smtp.wait_for(1, timeout=15)[0]
    assert message["To"] == "ana@example.com"
    assert "shop" in message["Subject"] and "1 breaking change" in message["Subject"]
    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    for body in parts.values():
        assert "sales.customers" in body and "phone" in body and "country" in body
    assert "column removed" in parts["text/plain"] and "breaking" in parts["text/plain"]

    # Later scheduled crawls see nothing new: still exactly one email.
    wait_until(lambda: len(scheduled_crawls()) >= 3, 20, message="two more scheduled crawls")
    assert len(smtp.received()) == 1
    assert OutboxMessage.objects.get().status == OutboxMessage.SENT
    assert SchemaChange.objects.count() == 2

    # The unsubscribe link works with no login, against the live server: a GET (a person, or a mail
    # scanner) only asks; a POST with no session or CSRF token, as a one-click mail client sends,
    # stops that dataset only: the source subscription stays on for the others.
    link = re.search(r"https?://\S+/unsubscribe/[^/\s]+/", parts["text/plain"]).group(0)
    assert link.startswith(worker.env["CANON_BASE_URL"])
    assert link in parts["text/html"]
    with urllib.request.urlopen(link, timeout=10) as response:
        assert response.status == 200
        assert "shop" in response.read().decode()
    subscription.refresh_from_db()
    assert subscription.mode == Subscription.IMMEDIATE
    with urllib.request.urlopen(urllib.request.Request(link, data=b"List-Unsubscribe=One-Click", method="POST"), timeout=10) as response:
        assert response.status == 200
    subscription.refresh_from_db()
    assert subscription.mode == Subscription.IMMEDIATE
    assert list(subscription.exclusions.values_list("dataset__name", flat=True)) == ["customers"]


def test_an_email_that_failed_while_smtp_was_down_arrives_exactly_once_when_it_is_back(
        shop, start_worker, smtp, staff_user, client):
    source = source_create(name="shop", url=shop.url)
    subscription_create(user=staff_user, source=source, schema_name="sales")
    assert source_crawl(source).status == Crawl.SUCCEEDED
    # Beat's own flush is hourly here: the sends below come from the crawl's flush and from this test.
    worker = start_worker(CANON_OUTBOX_FLUSH_SECONDS="3600")
    assert not smtp.running

    shop.execute("ALTER TABLE sales.orders ALTER COLUMN status TYPE text")
    crawl = source_crawl(source)  # its commit asks the worker to flush the outbox
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert OutboxMessage.objects.filter(crawl=crawl).count() == 1
    failed = wait_until(lambda: OutboxMessage.objects.filter(attempts__gt=0).first(), 20,
                        message=f"a failed send; worker log: {worker.log()[-3000:]}")
    assert failed.status == OutboxMessage.PENDING and failed.sent_at is None
    assert "Connection refused" in failed.last_error or "ConnectionRefused" in failed.last_error, failed.last_error

    # Staff see it on the outbox page, with the error.
    client.force_login(staff_user)
    page = client.get("/outbox/").content.decode()
    assert "ana@example.com" in page and failed.subject in page and "Connection refused" in page

    smtp.start()
    wait_until(lambda: OutboxMessage.objects.get(pk=failed.pk).next_attempt_at <= timezone.now(), 10, 0.1, "the retry to be due")
    before = OutboxMessage.objects.get(pk=failed.pk)
    assert before.status == OutboxMessage.PENDING and not smtp.received()
    # Two flushes at the same moment in this process, and two flush tasks in the worker.
    barrier = threading.Barrier(2)
    sent_counts = []

    def flush():
        try:
            barrier.wait(timeout=10)
            sent_counts.append(outbox_flush())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=flush) for _ in range(2)]
    for thread in threads:
        thread.start()
    task_ids = [outbox_flush_task.delay().id, outbox_flush_task.delay().id]
    for thread in threads:
        thread.join(timeout=30)

    smtp.wait_for(1, timeout=15)
    sent = wait_until(lambda: OutboxMessage.objects.filter(pk=failed.pk, status=OutboxMessage.SENT).first(), 10,
                      message="the message to be marked sent")
    # Both flush tasks ran in the worker (it logs each one's end).
    wait_until(lambda: all(f"canon.outbox_flush[{task_id}] succeeded" in worker.log() for task_id in task_ids), 15,
               message="the worker's two flush tasks")
    assert outbox_flush() == 0
    assert len(smtp.received()) == 1, [m["Subject"] for m in smtp.received()]
    assert sum(sent_counts) <= 1
    assert sent.attempts == before.attempts + 1 and sent.last_error == ""
    message = smtp.received()[0]
    assert message["Subject"] == failed.subject and "sales.orders" in _parts(message)["text/plain"]


def test_crawl_now_runs_in_the_worker_and_never_twice_at_once(shop, pg, start_worker, staff_user):
    source = source_create(name="shop", url=shop.url)
    start_worker()

    # A long migration holds a lock the crawl must wait for: the crawl stays running meanwhile.
    blocker = pg.connect(shop.name)
    try:
        with blocker.transaction():
            blocker.execute("LOCK TABLE sales.customers IN ACCESS EXCLUSIVE MODE")
            first = crawl_enqueue(source, trigger="web")
            assert first.status == Crawl.QUEUED
            wait_until(lambda: Crawl.objects.filter(pk=first.pk, status=Crawl.RUNNING, phase="reading metadata").exists(), 20,
                       message="the worker to start the crawl")

            # "Crawl now" again, twice, while it runs: the running crawl is the answer, no second one.
            again = [crawl_enqueue(source, trigger="web"), crawl_enqueue(source, trigger="web")]
            assert [c.pk for c in again] == [first.pk, first.pk]
            # A scheduled tick meanwhile reaches the worker's second process: it is skipped, and recorded.
            crawl_source_task.delay(source.pk)
            skipped = wait_until(lambda: source.crawls.filter(status=Crawl.SKIPPED).first(), 20, message="a skipped crawl")
            assert skipped.error == f"another crawl of this source is running (crawl #{first.pk})"
            assert skipped.trigger == "schedule"
            # Only the first crawl is running; the skipped one never got as far as connecting.
            assert list(source.crawls.filter(status=Crawl.RUNNING).values_list("pk", flat=True)) == [first.pk]
            assert skipped.phase == "" and skipped.datasets_seen == 0
    finally:
        blocker.close()

    done = wait_until(lambda: Crawl.objects.filter(pk=first.pk).exclude(status__in=Crawl.ACTIVE).first(), 20,
                      message="the crawl to finish")
    assert done.status == Crawl.SUCCEEDED, done.error
    assert done.datasets_added == 7
    assert sorted(source.crawls.values_list("status", flat=True)) == [Crawl.SKIPPED, Crawl.SUCCEEDED]
    source.refresh_from_db()
    assert source.crawl_lease_holder_id is None and source.last_success_at == done.finished_at
    # With nothing running, "crawl now" queues a new crawl, which the worker runs.
    second = crawl_enqueue(source, trigger="web")
    assert second.pk != first.pk
    finished = wait_until(lambda: Crawl.objects.filter(pk=second.pk, status=Crawl.SUCCEEDED).first(), 20,
                          message="the second crawl")
    assert (finished.datasets_added, finished.datasets_changed) == (0, 0)
