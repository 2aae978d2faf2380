from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "catalog.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self):
        from catalog.audit.context import task_finished, task_started
        from catalog.audit.tracked import track
        from catalog.core.taskhooks import around_tasks

        track()
        around_tasks(task_started, task_finished)  # a task's writes are the task's (connected with Celery's app)
