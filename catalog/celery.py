"""Canon's Celery app. Tasks are thin shims over services, named, on named queues:
crawl (warehouse I/O), notify (email), index (search), celery (housekeeping).

Loaded by `celery -A catalog` (worker, beat), and in any other process only when it first sends a task
(`CANON_CELERY_APP`, catalog/core/queue.py): starting a command does not pay for Celery.
"""

import os
from pathlib import Path

from celery import Celery
from django.apps import apps
from django.utils.module_loading import autodiscover_modules

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.settings")

app = Celery("canon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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


@app.on_after_finalize.connect
def register_every_task(sender: Celery, **kwargs) -> None:
    """Every app's tasks module, in a process that sends a task as in the worker (which imports them on its own
    once Django is set up): each task is then sent with its own options and queue, runs here when
    CELERY_TASK_ALWAYS_EAGER is on, and catalog/audit/tasks.py's task signals are connected."""
    if apps.ready:
        autodiscover_modules("tasks")
