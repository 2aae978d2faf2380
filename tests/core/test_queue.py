"""Sending a task by name (catalog/core/queue.py) from a process that has not loaded Celery, as a command or a page
does: the app CANON_CELERY_APP names is loaded then, the message goes to the task's queue, and the module behind the
task (and what it loads) is not imported to send it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_first_task_sent_loads_celery_and_routes_by_name(tmp_path):
    code = (
        "import sys, django; django.setup(); "
        "before = 'celery' in sys.modules; "
        "from catalog.core.queue import task_send; "
        "task_send('canon.search_index_source', args=[7]); task_send('canon.duplicates_after_crawl', args=[[1], [], [1], 3]); "
        "from celery.signals import task_prerun; "
        "print(before, 'catalog.duplicates.tasks' in sys.modules, 'numpy' in sys.modules, "
        "any('canon-task-starting' in str(r[0]) for r in task_prerun.receivers))"
    )
    var = tmp_path / "var"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "catalog.settings", "CANON_VAR_DIR": str(var),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.sqlite3'}", "CELERY_BROKER_URL": "filesystem://localhost/"}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    before, task_module, numpy, audit_connected = done.stdout.split()
    assert before == "False", "nothing loaded Celery before the first send"
    assert (task_module, numpy) == ("False", "False"), "sent by name: the task's module and its libraries stay unloaded"
    assert audit_connected == "True", "a task's writes are recorded as the task's wherever it runs"
    # The embedded default's broker writes one file per message, named after its queue.
    queued = sorted(p.name.rsplit(".", 2)[1] for p in (var / "celery" / "queue").glob("*.msg"))
    assert queued == ["celery", "index"], "search indexing to `index`, copies to `celery`, as a worker reads them"
