from catalog.celery import app
from catalog.duplicates.services import duplicates_after_crawl_task
from catalog.duplicates.steps import DUPLICATES_TASK


@app.task(name=DUPLICATES_TASK, acks_late=True, ignore_result=True)
def duplicates_after_crawl_task_shim(changed_ids: list[int], removed_ids: list[int], added_ids: list[int], crawl_id: int):
    """Copies among what a big crawl added or changed, found after its commit. Idempotent: a redelivered message detects
    the same groups again and queues no email twice (keys)."""
    duplicates_after_crawl_task(changed_ids, removed_ids, added_ids, crawl_id)
