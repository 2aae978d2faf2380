"""Audit's task, and the task context: writes a task makes are recorded as the task's. This module is loaded
with every app's tasks wherever Celery is loaded (the worker, and a process once it sends its first task:
catalog/celery.py), so the signals below are connected wherever a task can run."""

from celery.signals import task_postrun, task_prerun

from catalog.audit.context import task_finished, task_started
from catalog.audit.services import audit_prune
from catalog.celery import app

task_prerun.connect(task_started, dispatch_uid="canon-audit-task-started", weak=False)
task_postrun.connect(task_finished, dispatch_uid="canon-audit-task-finished", weak=False)


@app.task(name="canon.audit_prune")
def audit_prune_task() -> int:
    return audit_prune()
