"""One crawl per source at a time, on any number of workers, and no crawl blocked by a dead one.

The lease is the source row's `crawl_lease_holder`: the crawl that holds it. A holder is alive while
it is queued or running and its `heartbeat_at` is fresh; a thread in the crawling process
(`CrawlHeartbeat`) stamps it every CANON_CRAWL_HEARTBEAT_SECONDS on its own database connection.
A crawl whose heartbeat is older than CANON_CRAWL_STALE_HEARTBEATS intervals is taken to be dead
(its worker was killed, ran out of memory, or its machine went away): the next crawl of the
source takes the lease over, and the crawl service (catalog/crawls/services.py) marks the dead crawl failed.

Only the crawl row is stamped, never the source row: a crawl applying its extraction holds the
source row locked (select_for_update) for its whole transaction, and its heartbeat must go on
meanwhile. Every path that takes a lease over or marks a crawl dead locks that row first, so it
waits for a crawl that is applying instead of racing it.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalog.sources.models import Crawl, Source

logger = logging.getLogger(__name__)


def stale_after() -> timedelta:
    """How long a crawl may go without a heartbeat before it is taken to be dead."""
    return timedelta(seconds=settings.CANON_CRAWL_HEARTBEAT_SECONDS * settings.CANON_CRAWL_STALE_HEARTBEATS)


def _alive(now: datetime) -> Q:
    """Crawls that are queued or running and stamped within the stale limit."""
    return Q(status__in=Crawl.ACTIVE, heartbeat_at__gte=now - stale_after())


def crawls_dead(now: datetime | None = None):
    """Running crawls whose heartbeat stopped (a crawl from before heartbeats: by its start)."""
    cutoff = (now or timezone.now()) - stale_after()
    return Crawl.objects.filter(status=Crawl.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def lease_acquire(source: Source, crawl: Crawl) -> bool:
    """Take the source's lease for this crawl unless a live crawl holds it. One conditional UPDATE,
    so two workers asking at once cannot both win; the crawl is stamped first, so it is alive the
    moment it holds the lease."""
    now = timezone.now()
    Crawl.objects.filter(pk=crawl.pk).update(heartbeat_at=now)
    crawl.heartbeat_at = now
    live_holder = Crawl.objects.filter(pk=OuterRef("crawl_lease_holder")).filter(_alive(now))
    taken = Source.objects.filter(pk=source.pk).filter(~Exists(live_holder)).update(crawl_lease_holder=crawl.pk)
    return bool(taken)


def lease_held(source: Source, crawl: Crawl) -> bool:
    """True while this crawl still holds its source's lease (no other crawl took it over)."""
    return Source.objects.filter(pk=source.pk, crawl_lease_holder=crawl.pk).exists()


def lease_release(source: Source, crawl: Crawl) -> None:
    """Give the lease back, if this crawl still holds it (a crawl taken over must not free its successor's)."""
    Source.objects.filter(pk=source.pk, crawl_lease_holder=crawl.pk).update(crawl_lease_holder=None)


def lease_renew(crawl_id: int) -> bool:
    """One heartbeat. False once the crawl is no longer running (finished, or marked dead)."""
    return bool(Crawl.objects.filter(pk=crawl_id, status=Crawl.RUNNING).update(heartbeat_at=timezone.now()))


class CrawlHeartbeat:
    """A thread that stamps a running crawl every CANON_CRAWL_HEARTBEAT_SECONDS until stopped.

    It has its own database connection, closed when it stops. A beat that fails (the database
    restarting) is logged and tried again at the next interval; the thread ends when its crawl is
    no longer running. On SQLite a write from another connection between a transaction's first read
    and its first write fails that transaction, so `paused()` keeps the thread quiet while the
    crawl's own transaction is open (PostgreSQL needs no pause).
    """

    def __init__(self, crawl_id: int, interval: float | None = None):
        self.crawl_id = crawl_id
        self.interval = settings.CANON_CRAWL_HEARTBEAT_SECONDS if interval is None else interval
        self._stop = threading.Event()
        self._quiet = threading.Lock()
        self._thread: threading.Thread | None = None
        self._sqlite = connection.vendor == "sqlite"

    def start(self) -> "CrawlHeartbeat":
        self._thread = threading.Thread(target=self._run, name=f"crawl-{self.crawl_id}-heartbeat", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @contextmanager
    def paused(self):
        if not self._sqlite:
            yield
            return
        with self._quiet:
            yield

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                with self._quiet:
                    try:
                        running = lease_renew(self.crawl_id)
                    except DatabaseError as exc:
                        logger.warning("crawl #%s: heartbeat failed (%s); trying again", self.crawl_id, exc.__class__.__name__)
                        connection.close()
                        continue
                if not running:
                    return
        finally:
            connections.close_all()  # this thread's connections only
