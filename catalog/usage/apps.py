from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "catalog.usage"
    label = "usage"
    verbose_name = "Usage"
