"""Canon's Celery app. Tasks are thin shims over services, named, on named queues:
crawl (warehouse I/O), notify (email)."""

import os
from pathlib import Path

from celery import Celery

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
