"""No import hidden in a function (import-linter's contracts, `.importlinter`, are run by `make test`).

An import inside a function hides a cycle between apps or a layer crossed upward; the contracts cannot see
it until the function runs. The few that stay are listed here by place, each with its reason, so the number
cannot creep back: a new one fails this test until it is justified in this list or moved to the top.
"""

from __future__ import annotations

import ast
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
# loaded by the code that needs it, when it runs. sqlglot alone is about 80 ms of a start.
HEAVY_AT_START = ("sqlglot", "numpy", "pandas", "pyarrow", "boto3", "duckdb", "jinja2", "rest_framework.views")


def test_starting_a_command_loads_no_heavy_library():
    code = ("import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'catalog.settings'); import django; "
            "django.setup(); from django.core.management import load_command_class; "
            "load_command_class('catalog.crawls', 'crawl'); "
            f"print(','.join(m for m in {HEAVY_AT_START!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", f"loaded when a command starts: {done.stdout.strip()}"
