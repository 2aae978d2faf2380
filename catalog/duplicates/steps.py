"""Duplicates' crawl step: the datasets a crawl added or changed are compared with what could be like them, and the
owners of a new dataset that copies an existing one (or of the one it copies) get one email."""

from __future__ import annotations

from catalog.duplicates.services import duplicates_announce, duplicates_refresh
from catalog.inventory.outcome import CrawlOutcome


def find_copies(outcome: CrawlOutcome) -> None:
    """After lineage (a view reading only one table is a derived copy) and search (documents of datasets that became
    copies are made again here). Reads only ids from the outcome."""
    result = outcome.result
    if not (result.added_ids or result.changed_ids or result.removed_ids):
        return
    refresh = duplicates_refresh([*result.added_ids, *result.changed_ids], result.removed_ids)
    outcome.messages_queued.extend(duplicates_announce(refresh.groups, new_ids=result.added_ids, crawl=outcome.crawl))
