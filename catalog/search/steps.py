"""Search's crawl step: the documents of what the crawl added, changed or removed."""

from __future__ import annotations

from catalog.inventory.outcome import CrawlOutcome
from catalog.search.index import search_index_crawl


def index_changes(outcome: CrawlOutcome) -> None:
    """Rebuilds those documents (and any the stamp check finds stale) in the crawl's transaction; a change
    too big for that goes to the `index` queue after the commit. Runs after lineage's and metrics' steps:
    documents carry the readers and broken definitions those write."""
    search_index_crawl(outcome.source, outcome.result)
