"""No import hidden in a function (import-linter's contracts, `.importlinter`, are run by `make test`).

An import inside a function hides a cycle between apps or a layer crossed upward; the contracts cannot see
it until the function runs. The few that stay are listed here by place, each with its reason, so the number
cannot creep back: a new one fails this test until it is justified in this list or moved to the top.
"""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CATALOG = REPO / "catalog"

# (module, function): why the import waits for the call.
ALLOWED = {
    # Optional clients: not in requirements.txt; a source of that kind says which package to install.
    ("catalog.connectors.snowflake", "connect"): "snowflake-connector-python",
    ("catalog.connectors.snowflake", "test"): "snowflake-connector-python",
    ("catalog.connectors.snowflake", "extract"): "snowflake-connector-python",
    ("catalog.connectors.snowflake", "_extract"): "snowflake-connector-python",
    ("catalog.connectors.bigquery", "_client"): "google-cloud-bigquery",
    ("catalog.connectors.bigquery", "_run"): "google-cloud-bigquery",
    # pandas only reads JSON Lines whose values pyarrow refuses; loading it costs a lake crawl ~0.5 s.
    ("catalog.connectors.lake.formats", "_jsonl_with_pandas"): "pandas, rarely needed",
}


def _imports_in_functions() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(CATALOG.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if function.name == "ready":  # AppConfig.ready(): Django's place for registering an app's parts
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    found.add((module, function.name))
    return found


def test_no_import_hides_in_a_function_beyond_the_listed_ones():
    found = _imports_in_functions()
    assert found - set(ALLOWED) == set(), "imports inside functions: move them to the top, or list them with a reason"
    assert set(ALLOWED) - found == set(), "listed but gone: take them off the list"


# Libraries a command's start must not load (issue 21: a `manage.py` command starts in under 0.5 s): each is
# loaded by the code that needs it, when it runs. sqlglot alone is about 80 ms of a start; Celery (with kombu) is
# loaded by the first task a process sends (catalog/core/queue.py), about 120 ms.
HEAVY_AT_START = ("sqlglot", "numpy", "pandas", "pyarrow", "boto3", "duckdb", "jinja2", "rest_framework.views",
                  "celery", "kombu")
# What a crawl that changed nothing must not load either: its steps reach the code that parses SQL (lineage,
# metrics, usage) or compares datasets (duplicates) by dotted path, only when there is something to parse or compare.
HEAVY_IN_AN_UNCHANGED_RECRAWL = ("sqlglot", "numpy", "pandas", "pyarrow", "celery", "kombu")


def _python(code: str, env: dict | None = None) -> str:
    """The last line a fresh interpreter running `code` prints (it must succeed)."""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def test_starting_a_command_loads_no_heavy_library():
    loaded = _python("import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'catalog.settings'); import django; "
                     "django.setup(); from django.core.management import load_command_class; "
                     "load_command_class('catalog.crawls', 'crawl'); "
                     f"print(','.join(m for m in {HEAVY_AT_START!r} if m in sys.modules))")
    assert loaded == "", f"loaded when a command starts: {loaded}"


def test_an_unchanged_recrawl_loads_no_parser(tmp_path):
    """As `manage.py crawl` runs from cron: a process whose crawl finds nothing changed. The first crawl, in a
    process of its own, parses the warehouse's view (and so loads sqlglot); the second must not."""
    warehouse = tmp_path / "warehouse.sqlite3"
    with sqlite3.connect(warehouse) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL, customer TEXT)")
        conn.execute("CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 100")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "catalog.settings", "CANON_VAR_DIR": str(tmp_path / "var"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.sqlite3'}", "LOG_LEVEL": "WARNING"}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    setup = "import sys, django; django.setup(); from django.core.management import call_command; "
    first = _python(setup + (
        "call_command('migrate', verbosity=0); "
        "from catalog.sources.services import source_create; from catalog.crawls.services import source_crawl; "
        f"done = source_crawl(source_create(name='shop', url='sqlite:///{warehouse}')); "
        "print(done.status, done.datasets_added, 'sqlglot' in sys.modules)"), env)
    assert first == "succeeded 2 True", "the first crawl reads both datasets and parses the view"
    second = _python(setup + (
        "call_command('crawl', 'shop'); from catalog.sources.models import Crawl; "
        "last = Crawl.objects.latest('pk'); "
        f"print(last.status, last.datasets_changed, ','.join(m for m in {HEAVY_IN_AN_UNCHANGED_RECRAWL!r} if m in sys.modules) or '-')"), env)
    assert second == "succeeded 0 -", f"an unchanged recrawl loaded: {second}"


def test_the_pages_load_without_celery():
    """Every view and URL, as the web process and a command running Django's checks load them: Celery waits for the
    first task sent (the source page's schedule form checks a cron with Celery's parser only when one is given)."""
    loaded = _python("import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'catalog.settings'); import django; "
                     "django.setup(); from django.core.checks import run_checks; from django.urls import get_resolver; "
                     "assert not run_checks(); get_resolver().url_patterns; "
                     "print(','.join(m for m in ('celery', 'kombu') if m in sys.modules) or '-')")
    assert loaded == "-", f"loaded with the pages: {loaded}"
