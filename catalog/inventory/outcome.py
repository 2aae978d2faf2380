"""What one applied crawl changed, handed to every crawl step (settings.CANON_CRAWL_STEPS) in turn.

It lives here, below the apps that have steps (history, lineage, metrics, search, alerts), so a step
imports it without importing the crawl that runs it. The crawl builds it inside its one transaction,
right after `inventory_apply_extraction`; each step reads it and may leave something for the steps
after it (history leaves the schema changes it recorded, alerts the messages it queued).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from catalog.inventory.models import Dataset, SchemaVersion
from catalog.inventory.services.apply import ApplyResult


@dataclass(frozen=True)
class DatasetChange:
    """One dataset the crawl added, changed or removed, with its schema document before and after
    (None: it had none before, being new, or has none after, being removed)."""

    dataset: Dataset
    before: dict | None
    after: dict | None


@dataclass
class CrawlOutcome:
    source: Any  # catalog.sources.models.Source
    crawl: Any  # catalog.sources.models.Crawl, running, inside its transaction
    extraction: Any  # the connector's complete Extraction that was applied
    result: ApplyResult  # what inventory_apply_extraction did: counts and ids of added, changed, removed datasets
    # Every dataset of the source as it was before the crawl: {dataset id: (schema, name, removed)}.
    names_before: dict[int, tuple[str, str, bool]]
    now: datetime  # the crawl's time, stamped on everything it writes
    # Left by the history step for the steps after it: the SchemaChange rows this crawl recorded.
    changes: list = field(default_factory=list)
    # Left by the alerts step: messages written to the outbox, which the crawl asks a worker to send after commit.
    messages_queued: list = field(default_factory=list)
    # What steps read before the transaction (their `prepare`, catalog/crawls/steps.py), by step.
    prepared: dict = field(default_factory=dict)

    @property
    def anything_changed(self) -> bool:
        return bool(self.result.added or self.result.changed or self.result.removed)

    @property
    def added(self) -> list[DatasetChange]:
        """Datasets new in this crawl, or back after they were removed."""
        return self._datasets["added"]

    @property
    def changed(self) -> list[DatasetChange]:
        """Present datasets whose schema (or name) changed."""
        return self._datasets["changed"]

    @property
    def removed(self) -> list[DatasetChange]:
        """Datasets this crawl concluded are gone (only ever from a complete crawl, in scope)."""
        return self._datasets["removed"]

    @cached_property
    def _datasets(self) -> dict[str, list[DatasetChange]]:
        """Read once, on first use, in two queries: most crawls change few datasets and most steps read only ids."""
        result = self.result
        ids = list(dict.fromkeys([*result.added_ids, *result.changed_ids, *result.removed_ids]))
        datasets = Dataset.objects.in_bulk(ids)
        latest: dict[int, list[SchemaVersion]] = {}
        for version in SchemaVersion.objects.filter(dataset_id__in=ids).order_by("dataset_id", "-number").only(
            "id", "dataset_id", "number", "schema"
        ):
            versions = latest.setdefault(version.dataset_id, [])
            if len(versions) < 2:
                versions.append(version)
        added_or_changed = set(result.added_ids) | set(result.changed_ids)

        def change(dataset_id: int) -> DatasetChange:
            versions = latest.get(dataset_id, [])
            if dataset_id not in added_or_changed:  # removed: its last schema is what it was
                return DatasetChange(datasets[dataset_id], versions[0].schema if versions else None, None)
            after = versions[0].schema if versions else None
            before = versions[1].schema if len(versions) > 1 else None
            return DatasetChange(datasets[dataset_id], before, after)

        return {
            "added": [change(i) for i in result.added_ids if i in datasets],
            "changed": [change(i) for i in result.changed_ids if i in datasets],
            "removed": [change(i) for i in result.removed_ids if i in datasets],
        }
