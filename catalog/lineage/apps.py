from django.apps import AppConfig


class LineageConfig(AppConfig):
    name = "catalog.lineage"
    label = "lineage"

    def ready(self):
        from catalog.alerts.impact import register_impact_provider
        from catalog.inventory.registry import register_dataset_detail_field

        register_impact_provider("catalog.lineage.impact.LineageImpacts")
        register_dataset_detail_field("lineage", "catalog.lineage.api.DatasetLineageField")
