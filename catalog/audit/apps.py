from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "catalog.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self):
        # Celery's task signals are connected by catalog/audit/tasks.py, loaded with every app's tasks wherever
        # a task is sent or run (catalog/celery.py): a process that never touches Celery does not load it.
        from catalog.audit.tracked import track

        track()
