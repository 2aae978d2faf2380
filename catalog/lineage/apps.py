from django.apps import AppConfig


class LineageConfig(AppConfig):
    name = "catalog.lineage"
    label = "lineage"

    def ready(self):
        from catalog.alerts.impact import register_impact_provider
        from catalog.inventory.registry import register_dataset_detail_field
        from catalog.inventory.signals import build_sql_changed
        from catalog.lineage.receivers import after_build_sql

        register_impact_provider("catalog.lineage.impact.LineageImpacts")
        register_dataset_detail_field("lineage", "catalog.lineage.api.DatasetLineageField")
        build_sql_changed.connect(after_build_sql, dispatch_uid="lineage-after-build-sql")
