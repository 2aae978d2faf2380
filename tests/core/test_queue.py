"""Sending a task by name (catalog/core/queue.py) from a process that has not loaded Celery yet, as a command or
a page does: the app CANON_CELERY_APP names is loaded then, with every app's tasks, so the task runs as configured."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_first_task_sent_loads_celery_with_every_task_and_the_audit_context(tmp_path):
    code = (
        "import sys, django; django.setup(); "
        "from django.core.management import call_command; call_command('migrate', verbosity=0); "
        "before = 'celery' in sys.modules; "
        "from catalog.core.queue import task_send; "
        "result = task_send('canon.audit_prune'); "  # eager: runs here, with its own options
        "from celery import current_app; from celery.signals import task_prerun; "
        "print(before, result.get(), sorted(n for n in current_app.tasks if n.startswith('canon.')), "
        "any('canon-audit-task-started' in str(r[0]) for r in task_prerun.receivers))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "catalog.settings", "CANON_VAR_DIR": str(tmp_path / "var"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.sqlite3'}", "CELERY_TASK_ALWAYS_EAGER": "true"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    before, pruned, *rest = done.stdout.strip().split(" ", 2)
    assert before == "False", "nothing loaded Celery before the first send"
    assert pruned == "0", "the task ran, eagerly, and pruned nothing from an empty log"
    names, audit_connected = rest[0].rsplit(" ", 1)
    for name in ("canon.crawl_source", "canon.outbox_flush", "canon.search_index_source", "canon.audit_prune",
                 "canon.duplicates_after_crawl", "canon.freshness_check"):
        assert name in names, f"{name} is registered once Celery is loaded"
    assert audit_connected == "True", "a task's writes are recorded as the task's wherever it runs"
