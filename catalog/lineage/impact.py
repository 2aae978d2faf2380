"""Lineage's answer to alerts' "what does this change break?": the views that read a dataset."""

from __future__ import annotations

from catalog.alerts.impact import Dependent, ImpactProvider
from catalog.lineage.selectors import lineage_impacts


class LineageImpacts(ImpactProvider):
    def dependents_of(self, dataset_ids: list[int]) -> dict[int, list[Dependent]]:
        return {dataset_id: [Dependent(view_id, "view", name) for view_id, name in views]
                for dataset_id, views in lineage_impacts(dataset_ids).items()}
