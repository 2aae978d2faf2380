"""Canon's Snowflake connector against fakesnow, for tests that run in Canon's own venv.

fakesnow pins its own DuckDB and sqlglot, so it lives in .venv-snowflake
(requirements-snowflake-emulator.txt, made by `make test`). `emulate` starts
snowflake_emulator.py there once, with the SQL that builds the emulated database and the
connector calls to make, and gives back each call's answer: an extraction is rebuilt into
the connector's own dataclasses, so a test can assert on it, or hand it to the crawl service,
exactly as if the connector had run in this process.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from catalog.connectors.base import ColumnMeta, DatasetMeta, Extraction

REPO = Path(__file__).resolve().parents[2]
EMULATOR_PYTHON = REPO / ".venv-snowflake" / "bin" / "python"
EMULATOR = Path(__file__).with_name("snowflake_emulator.py")
FAKESNOW_VERSION = "0.12.1"  # as requirements-snowflake-emulator.txt pins it


@dataclass
class Answer:
    extraction: Extraction | None = None
    message: str = ""  # what Connector.test() said
    error: str = ""  # a ConnectorError's message
    sample: dict | None = None  # sample_profiles' answer: {"profiles": [[schema, name, stats]], "problems": [...], "complete"}


def extraction_from(data: dict) -> Extraction:
    datasets = []
    for item in data["datasets"]:
        fields = dict(item)
        fields["columns"] = [ColumnMeta(**column) for column in item["columns"]]
        if fields.get("last_modified"):
            fields["last_modified"] = datetime.fromisoformat(fields["last_modified"])
        if fields.get("schema_document"):
            fields["schema_document"] = tuple(fields["schema_document"])
        datasets.append(DatasetMeta(**fields))
    return Extraction(datasets=datasets, schemas=data["schemas"], warnings=data["warnings"], state=data["state"])


def emulate(setup: list[str], calls: list[dict], *, database: str = "SHOP", schema: str = "PUBLIC") -> list[Answer]:
    """Run `setup` (SQL, through the real driver, connected to database.schema), then each call
    ({"url": ..., "op": "extract" | "test", "include": [...], "exclude": [...]}) through the connector."""
    if not EMULATOR_PYTHON.exists():
        pytest.fail(f"{EMULATOR_PYTHON} is missing: `make test-envs` (part of `make test`) makes the Snowflake emulator's virtualenv")
    request = {"database": database, "schema": schema, "setup": setup, "calls": calls}
    done = subprocess.run([str(EMULATOR_PYTHON), str(EMULATOR)], input=json.dumps(request), capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert done.returncode == 0, f"the Snowflake emulator failed:\n{done.stderr[-4000:]}"
    answer = json.loads(done.stdout)
    assert answer["versions"]["fakesnow"] == FAKESNOW_VERSION, answer["versions"]
    return [Answer(extraction=extraction_from(result["extraction"]) if "extraction" in result else None,
                   message=result.get("message", ""), error=result.get("error", ""), sample=result.get("sample"))
            for result in answer["results"]]
