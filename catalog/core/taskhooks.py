"""What runs around every Celery task, registered by the apps that need it from AppConfig.ready() (audit: a task's
writes are recorded as the task's). Celery-free: catalog/celery.py connects Celery's task_prerun and task_postrun
to the two functions below when the app is made, so an app registering here loads no Celery, and Celery's app
imports no app above core."""

from __future__ import annotations

from typing import Callable

_BEFORE: list[Callable] = []
_AFTER: list[Callable] = []


def around_tasks(before: Callable, after: Callable) -> None:
    """before(task_id=, task=, ...) as a task starts, after(task_id=, ...) once it is over (Celery's signal arguments)."""
    if before not in _BEFORE:
        _BEFORE.append(before)
        _AFTER.insert(0, after)


def task_starting(**kwargs) -> None:
    for hook in list(_BEFORE):
        hook(**kwargs)


def task_ended(**kwargs) -> None:
    for hook in list(_AFTER):
        hook(**kwargs)
