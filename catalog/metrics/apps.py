from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "catalog.metrics"
    label = "metrics"
    verbose_name = "Metric definitions"

    def ready(self):
        from catalog.alerts.impact import register_impact_provider

        register_impact_provider("catalog.metrics.impact.MetricImpacts")
