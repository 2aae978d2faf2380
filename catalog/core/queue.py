"""Tasks are enqueued by name, so a service never imports the module that defines a task (and the task,
which calls the service, never imports back).

The Celery app is the one `CANON_CELERY_APP` names (catalog/celery.py), loaded on the first send: a process
that never sends a task (most commands) never loads Celery. A task registered in this process (always, in a
worker) is sent by its own apply_async, so its options and CELERY_TASK_ALWAYS_EAGER apply; any other is sent
by name to the queue CELERY_TASK_ROUTES gives it, without loading the module that defines it (and what that
module loads: sqlglot, numpy).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string


def task_send(name: str, *, args=(), kwargs=None):
    """Publish one message for the task called `name`. Raises what the broker raises (no retry: a caller
    that cannot reach the broker decides what that means)."""
    app = import_string(settings.CANON_CELERY_APP)
    return app.signature(name, args=tuple(args), kwargs=dict(kwargs or {})).apply_async(retry=False)
