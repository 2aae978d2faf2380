from django.apps import AppConfig
from django.db.models.signals import post_delete


class SourcesConfig(AppConfig):
    name = "catalog.sources"
    label = "sources"

    def ready(self):
        from catalog.sources.models import Source
        from catalog.sources.signals import drop_schedule

        post_delete.connect(drop_schedule, sender=Source, dispatch_uid="canon-source-schedule")
