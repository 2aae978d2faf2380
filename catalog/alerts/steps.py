"""Alerts' crawl step: emails about the crawl's schema changes, written to the outbox in its transaction."""

from __future__ import annotations

from catalog.alerts.services import alerts_queue_for_crawl
from catalog.inventory.outcome import CrawlOutcome


def queue_alerts(outcome: CrawlOutcome) -> None:
    """Queues one message per person who hears about these changes (keyed per crawl, so a retried crawl cannot
    double them) and leaves them on the outcome: the crawl asks a worker to send after its commit."""
    outcome.messages_queued.extend(alerts_queue_for_crawl(outcome.source, outcome.crawl, outcome.changes))
