"""Duplicates' crawl step: the datasets a crawl added or changed are compared with what could be like them, and the
owners of a new dataset that copies an existing one (or of the one it copies) get one email."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from catalog.core.queue import task_send
from catalog.core.sourceurl import scrub
from catalog.inventory.outcome import CrawlOutcome

logger = logging.getLogger(__name__)

DUPLICATES_TASK = "canon.duplicates_after_crawl"
# By dotted path: comparing datasets needs numpy and sqlglot, which a crawl that changed nothing never loads (nor
# one that hands its datasets to the task).
AFTER_CRAWL = "catalog.duplicates.services.duplicates_after_crawl"
AFTER_CRAWL_TASK = "catalog.duplicates.services.duplicates_after_crawl_task"


def find_copies(outcome: CrawlOutcome) -> None:
    """After lineage (a view reading only one table is a derived copy), before search, which indexes what the crawl
    touched with the copies' labels (other datasets that became or stopped being copies are indexed again here).
    Reads only ids from the outcome. A crawl touching more than
    CANON_DUPLICATES_SYNC_DATASETS datasets (a first crawl of a large warehouse) hands them to a task after its commit,
    as search does, so the crawl is not held up; the task's emails are keyed alike, so they still go once."""
    result = outcome.result
    changed = [*result.added_ids, *result.changed_ids]
    removed = list(result.removed_ids)
    if not changed and not removed:
        return
    if len(changed) + len(removed) > settings.CANON_DUPLICATES_SYNC_DATASETS:
        added, crawl_id = list(result.added_ids), outcome.crawl.pk
        transaction.on_commit(lambda: duplicates_enqueue(changed, removed, added, crawl_id))
        return
    outcome.messages_queued.extend(import_string(AFTER_CRAWL)(changed, removed, result.added_ids, crawl=outcome.crawl,
                                                          indexed_after=changed + removed))


def duplicates_enqueue(changed_ids, removed_ids, added_ids, crawl_id: int) -> None:
    """After a big crawl's commit: a task finds its copies. With no broker, the crawl's own process does it now rather
    than leave them for the next full pass."""
    try:
        task_send(DUPLICATES_TASK, args=[list(changed_ids), list(removed_ids), list(added_ids), crawl_id])
    except Exception as exc:
        logger.warning("could not enqueue duplicates of crawl %s (%s); finding them now", crawl_id, scrub(str(exc)))
        try:
            import_string(AFTER_CRAWL_TASK)(changed_ids, removed_ids, added_ids, crawl_id)
        except Exception:  # the crawl is committed; `manage.py duplicates_detect` catches up
            logger.exception("finding duplicates after crawl %s failed", crawl_id)
