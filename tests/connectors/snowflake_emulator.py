"""Run Canon's Snowflake connector against fakesnow, in the Snowflake emulator's own virtualenv.

fakesnow pins its own DuckDB and sqlglot, which are not Canon's (Canon reads files written by
current DuckDB and keeps the sqlglot its SQL analysis is written for), so the emulator lives in
.venv-snowflake (requirements-snowflake-emulator.txt, made by `make test`). The test in Canon's
venv starts this script there with the repository on PYTHONPATH, sends one JSON request on
stdin and asserts on the JSON answer on stdout:

    {"setup": ["CREATE TABLE ...", ...],                  run once through the real driver
     "calls": [{"url": "snowflake://...", "op": "extract", "include": [...], "exclude": [...]},
               {"url": "snowflake://...", "op": "test"},
               {"url": "snowflake://...", "op": "sample", "tables": [[schema, name, [[column, family]]]],
                "percent": 100, "budget_s": 30}]}

    {"versions": {...}, "results": [{"extraction": {...}} | {"message": "..."} | {"error": "..."}
                                    | {"sample": {"profiles": [[schema, name, stats]], "problems": [...], "complete": true}}]}

Every call goes through the connector's real code (its queries, cursors and parsing over the
real snowflake-connector-python API); only the server is emulated. Django-free, pytest-free.
"""

import dataclasses
import json
import sys
from datetime import date, datetime
from importlib.metadata import version

import fakesnow
import snowflake.connector

from catalog.connectors.base import ConnectorError, ExtractRequest
from catalog.connectors.snowflake import SnowflakeConnector, sample_profiles
from catalog.core.sourceurl import parse_source_url


def plain(value):
    """Extraction dataclasses as JSON-ready values (datetimes in ISO 8601)."""
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def run_call(call: dict) -> dict:
    connector = SnowflakeConnector(parse_source_url(call["url"]))
    try:
        if call["op"] == "test":
            return {"message": connector.test()}
        if call["op"] == "sample":
            tables = [(schema, name, [tuple(c) for c in columns]) for schema, name, columns in call["tables"]]
            profiles, problems, complete = sample_profiles(connector, tables, percent=call["percent"], budget_s=call["budget_s"])
            return {"sample": {"profiles": [[s, n, stats] for (s, n), stats in profiles.items()],
                               "problems": [[s, n, problem] for (s, n), problem in problems.items()], "complete": complete}}
        return {"extraction": plain(connector.extract(ExtractRequest(include=call.get("include") or (), exclude=call.get("exclude") or ())))}
    except ConnectorError as exc:
        return {"error": str(exc)}


def main() -> None:
    request = json.load(sys.stdin)
    with fakesnow.patch():
        setup = request.get("setup") or []
        if setup:
            conn = snowflake.connector.connect(database=request.get("database", "SHOP"), schema=request.get("schema", "PUBLIC"))
            cursor = conn.cursor()
            for sql in setup:
                cursor.execute(sql)
            conn.close()
        results = [run_call(call) for call in request.get("calls") or []]
    versions = {name: version(name) for name in ("fakesnow", "duckdb", "sqlglot", "snowflake-connector-python")}
    json.dump({"versions": versions, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
