"""Canon's Celery app. Tasks are thin shims over services, named, on named queues:
crawl (warehouse I/O), notify (email), index (search), celery (housekeeping).

Loaded by `celery -A catalog` (worker, beat), and in any other process only when it first sends a task
(`CANON_CELERY_APP`, catalog/core/queue.py): starting a command does not pay for Celery.
"""

import os
from pathlib import Path

from celery import Celery
from celery.signals import task_postrun, task_prerun

from catalog.core.taskhooks import task_ended, task_starting

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.settings")

app = Celery("canon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# What apps run around every task (catalog/core/taskhooks.py; audit records a task's writes as the task's), wherever
# it runs: in a worker, or in place under CELERY_TASK_ALWAYS_EAGER. Connected with the app, so a start loads no Celery.
task_prerun.connect(task_starting, dispatch_uid="canon-task-starting", weak=False)
task_postrun.connect(task_ended, dispatch_uid="canon-task-ended", weak=False)


@app.on_after_configure.connect
def make_broker_folders(sender: Celery, **kwargs) -> None:
    """The embedded default's filesystem broker reads and writes folders that must exist: made here, when
    a process first uses Celery (to queue a task, or as the worker), not by importing settings."""
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
