"""No import hidden in a function (import-linter's contracts, `.importlinter`, are run by `make test`).

An import inside a function hides a cycle between apps or a layer crossed upward; the contracts cannot see
it until the function runs. The few that stay are listed here by place, each with its reason, so the number
cannot creep back: a new one fails this test until it is justified in this list or moved to the top.
"""

from __future__ import annotations

import ast
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
