"""Metrics' crawl step: definitions the crawl's changes break or repair."""

from __future__ import annotations

from django.utils.module_loading import import_string

from catalog.inventory.outcome import CrawlOutcome
from catalog.metrics.models import MetricDefinition

# By dotted path: checking definitions parses their SQL with sqlglot, which a crawl that changed nothing never loads.
AFTER_CHANGES = "catalog.metrics.services.metrics_after_changes"


def recheck_definitions(outcome: CrawlOutcome) -> None:
    """Links definitions to tables that appeared, re-checks the ones the recorded changes touch and tells
    their owners and watchers. Runs after history's step, whose changes it reads. A crawl that added,
    changed and removed nothing has neither, and a catalog without definitions nothing to check."""
    if (outcome.anything_changed or outcome.changes) and MetricDefinition.objects.exists():
        import_string(AFTER_CHANGES)(outcome.source, outcome.crawl, outcome.changes)
