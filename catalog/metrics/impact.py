"""Metrics' answer to alerts' "what does this change break?": the definitions a dataset's
current state breaks, the definitions that read a dataset (a view the change reaches), and
the definitions that read a column."""

from __future__ import annotations

from collections import defaultdict

from catalog.alerts.impact import ColumnReader, ImpactProvider
from catalog.metrics.models import MetricColumnUse, MetricDatasetUse
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

    def column_readers_of(self, columns: list[tuple[int, str]]) -> dict[tuple[int, str], list[ColumnReader]]:
        """The definitions whose SQL reads each column (as it was resolved); "*" asks for any column."""
        wanted = set(columns)
        dataset_ids = list({dataset_id for dataset_id, _ in columns})
        readers: dict[tuple[int, str], list[ColumnReader]] = defaultdict(list)
        for dataset_id, column, name in MetricColumnUse.objects.filter(dataset_id__in=dataset_ids).values_list(
                "dataset_id", "column_name", "definition__name").order_by("definition__name").distinct():
            if (dataset_id, column) in wanted:
                readers[(dataset_id, column)].append(ColumnReader("metric", name))
        any_column = [dataset_id for dataset_id, column in columns if column == "*"]
        if any_column:
            for dataset_id, name in MetricDatasetUse.objects.filter(dataset_id__in=any_column).values_list(
                    "dataset_id", "definition__name").order_by("definition__name"):
                readers[(dataset_id, "*")].append(ColumnReader("metric", name))
        return readers
