from django.apps import AppConfig


class BeatConfig(AppConfig):
    name = "catalog.beat"
    label = "beat"
