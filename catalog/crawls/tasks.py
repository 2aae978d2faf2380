"""The crawl's tasks: thin shims over catalog/crawls/services.py, sent by name (canon.crawl_source on the
`crawl` queue, by crawl_enqueue and beat's schedules; canon.crawl_reap_dead by beat)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from catalog.celery import app
from catalog.crawls.services import crawl_reap_dead, source_crawl
from catalog.sources.models import Crawl, Source

# A crawl that could not reach its warehouse is retried this many times, with growing waits.
CONNECT_RETRIES = 3


@app.task(name="canon.crawl_source", bind=True, acks_late=True, soft_time_limit=settings.CANON_CRAWL_TIME_LIMIT,
             time_limit=settings.CANON_CRAWL_TIME_LIMIT + 120)
def crawl_source_task(self, source_id: int, crawl_id: int | None = None, trigger: str = "schedule"):
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return
    crawl = Crawl.objects.filter(pk=crawl_id, status=Crawl.QUEUED).first() if crawl_id else None
    if crawl_id and crawl is None:
        # Already run, running, or recorded as dead: a redelivered message (its worker was killed) must not
        # crawl twice. The next scheduled crawl or "crawl now" runs a fresh one.
        return
    result = source_crawl(source, trigger=trigger if crawl is None else crawl.trigger, crawl=crawl,
                          allow_mass_removal=bool(crawl and crawl.allow_mass_removal))
    if result.status == Crawl.FAILED and result.error.startswith("could not connect") and self.request.retries < CONNECT_RETRIES:
        countdown = 30 * 2 ** self.request.retries
        # The source page says when it is tried again; the retries do not count as failures of their own
        # (catalog.alerts.services.recipients.crawl_health_record), so one click is not "crawls are failing".
        Crawl.objects.filter(pk=result.pk).update(retry_at=timezone.now() + timedelta(seconds=countdown))
        raise self.retry(kwargs={"trigger": "retry"}, countdown=countdown)


@app.task(name="canon.crawl_reap_dead", ignore_result=True)
def crawl_reap_dead_task():
    """Periodic (beat): crawls whose worker died are recorded as failed even if nobody crawls their source."""
    return crawl_reap_dead()
