"""Lineage's answer to alerts' "what does this change break?": the views that read a dataset, and by column."""

from __future__ import annotations

from catalog.alerts.impact import ColumnReader, Dependent, ImpactProvider
from catalog.lineage.selectors import lineage_column_readers, lineage_impacts


class LineageImpacts(ImpactProvider):
    def dependents_of(self, dataset_ids: list[int]) -> dict[int, list[Dependent]]:
        return {dataset_id: [Dependent(view_id, "view", name) for view_id, name in views]
                for dataset_id, views in lineage_impacts(dataset_ids).items()}

    def column_readers_of(self, columns: list[tuple[int, str]]) -> dict[tuple[int, str], list[ColumnReader]]:
        return {key: [ColumnReader("view", name, column, view_id, table_level) for view_id, name, column, table_level in views]
                for key, views in lineage_column_readers(columns).items()}
