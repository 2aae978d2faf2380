from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "catalog.sources"
    label = "sources"
