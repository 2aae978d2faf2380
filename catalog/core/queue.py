"""Tasks are enqueued by name, so a service never imports the module that defines a task (and the task,
which calls the service, never imports back).

The queue comes from CELERY_TASK_ROUTES, as for any message sent by name; a task registered in this
process (always, in a worker) is sent by its own apply_async, so its options and
CELERY_TASK_ALWAYS_EAGER apply as before.
"""

from __future__ import annotations

from celery import current_app


def task_send(name: str, *, args=(), kwargs=None):
    """Publish one message for the task called `name`. Raises what the broker raises (no retry: a caller
    that cannot reach the broker decides what that means)."""
    return current_app.signature(name, args=tuple(args), kwargs=dict(kwargs or {})).apply_async(retry=False)
