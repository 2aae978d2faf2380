from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "catalog.core"
    label = "core"
