"""Quality's crawl step: what the engine said of each dataset's last change, then the source's stale check."""

from __future__ import annotations

from catalog.inventory.outcome import CrawlOutcome
from catalog.quality.services import freshness_check, freshness_observe


def observe_freshness(outcome: CrawlOutcome) -> None:
    """Runs in the crawl's transaction: its emails (went stale, fresh again) commit with the crawl and are
    left on the outcome, so the crawl asks a worker to send them after commit."""
    freshness_observe(outcome.source, outcome.crawl, outcome.extraction, outcome.now, outcome.source.last_success_at)
    outcome.messages_queued.extend(freshness_check(outcome.now, source=outcome.source))
