from django.apps import AppConfig
from django.db.models.signals import post_delete


class SourcesConfig(AppConfig):
    name = "catalog.sources"
    label = "sources"

    def ready(self):
        from catalog.sources.models import Source

        post_delete.connect(_drop_schedule, sender=Source, dispatch_uid="canon-source-schedule")


def _drop_schedule(sender, instance, **kwargs):
    """A deleted source takes its beat schedule with it (Source.schedule points at the task, not back)."""
    from django_celery_beat.models import PeriodicTask

    if instance.schedule_id:
        PeriodicTask.objects.filter(pk=instance.schedule_id).delete()
