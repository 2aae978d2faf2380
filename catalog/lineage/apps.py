from django.apps import AppConfig


class LineageConfig(AppConfig):
    name = "catalog.lineage"
    label = "lineage"
