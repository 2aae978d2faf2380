from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "catalog.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self):
        from celery.signals import task_postrun, task_prerun

        from catalog.audit import tasks  # noqa: F401  (registers canon.audit_prune)
        from catalog.audit.context import task_started, task_finished
        from catalog.audit.tracked import track

        track()
        task_prerun.connect(task_started, dispatch_uid="canon-audit-task-started", weak=False)
        task_postrun.connect(task_finished, dispatch_uid="canon-audit-task-finished", weak=False)
