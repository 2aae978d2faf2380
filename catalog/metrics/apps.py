from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "catalog.metrics"
    label = "metrics"
    verbose_name = "Metric definitions"
