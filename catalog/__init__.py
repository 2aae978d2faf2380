"""Canon. The Celery app (catalog/celery.py) is not imported here: a command or a web process loads Celery only
when it first sends a task (catalog/core/queue.py), and `celery -A catalog` finds `catalog.celery.app` itself."""
