"""Duplicates' crawl step: the datasets a crawl added or changed are compared with what could be like them, and the
owners of a new dataset that copies an existing one (or of the one it copies) get one email."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from catalog.inventory.outcome import CrawlOutcome

# By dotted path: comparing datasets needs numpy and sqlglot, which a crawl that changed nothing never loads.
AFTER_CRAWL = "catalog.duplicates.services.duplicates_after_crawl"
ENQUEUE = "catalog.duplicates.services.duplicates_enqueue"


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
        transaction.on_commit(lambda: import_string(ENQUEUE)(changed, removed, added, crawl_id))
        return
    outcome.messages_queued.extend(import_string(AFTER_CRAWL)(changed, removed, result.added_ids, crawl=outcome.crawl,
                                                          indexed_after=changed + removed))
