from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "catalog.history"
    label = "history"
