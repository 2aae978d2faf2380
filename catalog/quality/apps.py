from django.apps import AppConfig


class QualityConfig(AppConfig):
    """Freshness (when each dataset's data last changed, its cadence, stale or not) from engine statistics."""

    name = "catalog.quality"
    label = "quality"

    def ready(self):
        from catalog.audit.tracked import ALL, CREATE, DELETE, UPDATE, track_model
        from catalog.inventory.registry import register_dataset_detail_field
        from catalog.quality.models import Freshness, ProfileAlertOptIn, SamplingPolicy, SensitiveColumn

        register_dataset_detail_field("freshness", "catalog.quality.api.DatasetFreshnessField")
        # What people set: a cadence (the crawl writes the same rows: only people's writes are recorded), a
        # column marked sensitive, the sampled-profile policy of a source, asking for profile alerts.
        track_model(Freshness, {"include_fields": ["cadence_text"]}, {CREATE, UPDATE}, people_only=True,
                    parents=[("dataset", "inventory.dataset")])
        track_model(SensitiveColumn, {"include_fields": ["dataset", "column_name"]}, {CREATE, DELETE},
                    parents=[("dataset", "inventory.dataset")])
        track_model(SamplingPolicy, {"include_fields": ["enabled", "budget_seconds", "percent"]}, ALL, people_only=True,
                    parents=[("source", "sources.source")])
        track_model(ProfileAlertOptIn, {"include_fields": ["user"]}, ALL)
