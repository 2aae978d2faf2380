from celery import shared_task

from catalog.search.index import search_index_source


@shared_task(name="canon.search_index_source", queue="index", acks_late=True, ignore_result=True)
def search_index_source_task(source_id: int):
    """Bring one source's search documents up to date (after a crawl too big to index in its own transaction).
    Idempotent: it indexes what is stale, so a redelivered message does little."""
    search_index_source(source_id)
