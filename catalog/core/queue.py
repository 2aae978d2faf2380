"""Tasks are enqueued by name, so a service never imports the module that defines a task (and the task,
which calls the service, never imports back).

The Celery app is the one `CANON_CELERY_APP` names (catalog/celery.py), loaded on the first send: a process
that never sends a task (most commands) never loads Celery. Once the app is loaded every app's tasks are
registered in this process (catalog/celery.py), so each is sent by its own apply_async, with its options and
queue, and CELERY_TASK_ALWAYS_EAGER applies.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string


def task_send(name: str, *, args=(), kwargs=None):
    """Publish one message for the task called `name`. Raises what the broker raises (no retry: a caller
    that cannot reach the broker decides what that means)."""
    app = import_string(settings.CANON_CELERY_APP)
    return app.signature(name, args=tuple(args), kwargs=dict(kwargs or {})).apply_async(retry=False)
