"""Metrics' crawl step: definitions the crawl's changes break or repair."""

from __future__ import annotations

from catalog.inventory.outcome import CrawlOutcome
from catalog.metrics.services import metrics_after_changes


def recheck_definitions(outcome: CrawlOutcome) -> None:
    """Links definitions to tables that appeared, re-checks the ones the recorded changes touch and tells
    their owners and watchers. Runs after history's step, whose changes it reads."""
    metrics_after_changes(outcome.source, outcome.crawl, outcome.changes)
