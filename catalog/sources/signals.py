"""What follows a source's deletion outside its own rows."""

from django_celery_beat.models import PeriodicTask


def drop_schedule(sender, instance, **kwargs):
    """A deleted source takes its beat schedule with it (Source.schedule points at the task, not back)."""
    if instance.schedule_id:
        PeriodicTask.objects.filter(pk=instance.schedule_id).delete()
