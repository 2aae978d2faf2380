"""History's crawl step: the schema changes of what the crawl added, changed or removed."""

from __future__ import annotations

from catalog.history.services import history_record_changes
from catalog.inventory.outcome import CrawlOutcome


def record_changes(outcome: CrawlOutcome) -> None:
    """Records SchemaChange rows (none on a source's first crawl, the baseline) and leaves them on the
    outcome for the steps after this one: metrics and alerts read them."""
    outcome.changes = history_record_changes(outcome.source, outcome.crawl, outcome.result, outcome.names_before,
                                             now=outcome.now)
