from django.db import OperationalError

from catalog.celery import app
from catalog.search.index import database_is_locked, search_index_source

# A lock that outlasts the in-process retries (a big crawl holding SQLite's write lock for minutes) is waited
# out by the broker: again after 30 s, 60 s, 120 s ... up to 15 minutes apart, about a day in all.
LOCKED_RETRY_FIRST_S = 30
LOCKED_RETRY_MAX_S = 900
LOCKED_MAX_RETRIES = 100


@app.task(bind=True, name="canon.search_index_source", queue="index", acks_late=True, ignore_result=True,
             max_retries=LOCKED_MAX_RETRIES)
def search_index_source_task(self, source_id: int):
    """Bring one source's search documents up to date (after a crawl too big to index in its own transaction).
    Idempotent: it indexes what is stale, so a redelivered or retried message does little."""
    try:
        search_index_source(source_id)
    except OperationalError as exc:
        if not database_is_locked(exc):
            raise
        raise self.retry(exc=exc, countdown=min(LOCKED_RETRY_FIRST_S * 2 ** self.request.retries, LOCKED_RETRY_MAX_S))
