"""Metrics' answer to alerts' "what does this change break?": the definitions a dataset's
current state breaks, and the definitions that read a dataset (a view the change reaches)."""

from __future__ import annotations

from collections import defaultdict

from catalog.alerts.impact import ImpactProvider
from catalog.metrics.models import MetricDatasetUse
from catalog.metrics.services.health import metric_impacts


class MetricImpacts(ImpactProvider):
    def broken_by(self, dataset_ids: list[int]) -> dict[int, list[str]]:
        return metric_impacts(dataset_ids)

    def users_of(self, dataset_ids: list[int]) -> dict[int, list[str]]:
        users: dict[int, list[str]] = defaultdict(list)
        for dataset_id, name in MetricDatasetUse.objects.filter(dataset_id__in=dataset_ids).values_list(
                "dataset_id", "definition__name").order_by("definition__name"):
            users[dataset_id].append(f"metric {name}")
        return users
