"""Quality's crawl steps: when each dataset's data last changed and the source's stale check; column profiles."""

from __future__ import annotations

from catalog.inventory.outcome import CrawlOutcome
from django.db import transaction

from catalog.quality.profiling import profiles_observe, sample_soon, sampling_wanted
from catalog.quality.services import freshness_check, freshness_observe


def observe_freshness(outcome: CrawlOutcome) -> None:
    """Runs in the crawl's transaction: its emails (went stale, fresh again) commit with the crawl and are
    left on the outcome, so the crawl asks a worker to send them after commit."""
    freshness_observe(outcome.source, outcome.crawl, outcome.extraction, outcome.now, outcome.source.last_success_at)
    outcome.messages_queued.extend(freshness_check(outcome.now, source=outcome.source))


def observe_profiles(outcome: CrawlOutcome) -> None:
    """Column profiles the connector read from the engine's statistics, their jumps, and the emails about them."""
    outcome.messages_queued.extend(profiles_observe(outcome.source, outcome.crawl, outcome.extraction, outcome.now))
    if sampling_wanted(outcome.source):  # opt-in: a worker samples, after the commit, what the engine keeps nothing of
        source_id = outcome.source.pk
        transaction.on_commit(lambda: sample_soon(source_id))
