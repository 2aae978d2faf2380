from django.apps import AppConfig


class QualityConfig(AppConfig):
    """Freshness (when each dataset's data last changed, its cadence, stale or not) from engine statistics."""

    name = "catalog.quality"
    label = "quality"

    def ready(self):
        from catalog.inventory.registry import register_dataset_detail_field

        register_dataset_detail_field("freshness", "catalog.quality.api.DatasetFreshnessField")
