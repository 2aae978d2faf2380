from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "catalog.alerts"
    label = "alerts"
