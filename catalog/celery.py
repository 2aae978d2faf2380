"""Canon's Celery app. Tasks are thin shims over services, named, on named queues:
crawl (warehouse I/O), notify (email)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.settings")

app = Celery("canon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
