"""BigQuery: a project's datasets through the region's INFORMATION_SCHEMA, in bulk.

URL: bigquery://PROJECT/DATASET?credentials=<service-account key JSON, or base64 of it>&location=EU
A BigQuery dataset is a schema here. A dataset in the URL is the default scope;
without one, every dataset of the project in that location. Without credentials
the client's application-default credentials are used.

Six queries per crawl, each over the whole region (never one per table):
SCHEMATA, TABLES, TABLE_STORAGE, TABLE_OPTIONS (descriptions and labels),
COLUMNS and COLUMN_FIELD_PATHS (column descriptions), and VIEWS. Labels become
properties; an 'owner' label (else 'team') becomes the owner. Primary keys are
not read: BigQuery keeps them per dataset only, and does not enforce them.

google-cloud-bigquery is imported only when such a source is crawled. The row
parsing is separate from the client so that it can be tested without an account.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime, timedelta, timezone

from catalog.connectors.history import LoggedStatement, QueryHistory
from catalog.connectors.sampling import Budget, aggregates, profile_from_aggregates
from catalog.connectors.base import (
    EXTERNAL_TABLE,
    MATERIALIZED_VIEW,
    TABLE,
    VIEW,
    ColumnMeta,
    Connector,
    ConnectorError,
    DatasetMeta,
    ExtractRequest,
    Extraction,
    schema_in_scope,
)

KINDS = {"BASE TABLE": TABLE, "VIEW": VIEW, "MATERIALIZED VIEW": MATERIALIZED_VIEW, "EXTERNAL": EXTERNAL_TABLE,
         "SNAPSHOT": TABLE, "CLONE": TABLE}

# {region} is `project`.`region-eu`: every query covers every dataset of the project in that region.
QUERIES = {
    "schemata": "SELECT schema_name, location FROM {region}.INFORMATION_SCHEMA.SCHEMATA",
    "tables": """
        SELECT table_schema, table_name, table_type, creation_time,
               IF(table_type = 'MATERIALIZED VIEW', ddl, NULL) AS mv_ddl
        FROM {region}.INFORMATION_SCHEMA.TABLES""",
    "storage": """
        SELECT table_schema, table_name, total_rows, total_logical_bytes, storage_last_modified_time
        FROM {region}.INFORMATION_SCHEMA.TABLE_STORAGE WHERE project_id = @project AND NOT deleted""",
    "options": """
        SELECT table_schema, table_name, option_name, option_value
        FROM {region}.INFORMATION_SCHEMA.TABLE_OPTIONS WHERE option_name IN ('description', 'labels')""",
    "columns": """
        SELECT table_schema, table_name, column_name, ordinal_position, is_nullable, data_type, column_default,
               is_partitioning_column, clustering_ordinal_position
        FROM {region}.INFORMATION_SCHEMA.COLUMNS""",
    "column_descriptions": """
        SELECT table_schema, table_name, column_name, description
        FROM {region}.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS WHERE field_path = column_name AND description IS NOT NULL""",
    "views": "SELECT table_schema, table_name, view_definition FROM {region}.INFORMATION_SCHEMA.VIEWS",
}

_LABEL_RE = re.compile(r'STRUCT\(\s*"((?:[^"\\]|\\.)*)"\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)')


def parse_credentials(text: str) -> dict:
    """A service-account key: JSON as downloaded, or base64 of it. Anything else is a clear error."""
    raw = (text or "").strip()
    info = None
    try:
        info = json.loads(raw)
    except ValueError:
        try:
            decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_" if ("-" in raw or "_" in raw) else None, validate=True)
            info = json.loads(decoded.decode("utf-8"))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            pass
    if not isinstance(info, dict):
        raise ConnectorError("the BigQuery credentials are not a service-account key: expected its JSON, or base64 of that JSON")
    missing = [k for k in ("client_email", "private_key") if not info.get(k)]
    if info.get("type") != "service_account" or missing:
        detail = f"missing {', '.join(missing)}" if missing else f"its type is {info.get('type')!r}"
        raise ConnectorError(f"the BigQuery credentials are JSON but not a service-account key ({detail})")
    return info


def parse_labels(value) -> dict[str, str]:
    """TABLE_OPTIONS spells labels as a literal: [STRUCT("team", "growth"), STRUCT("owner", "ana")]."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {json.loads(f'"{k}"'): json.loads(f'"{v}"') for k, v in _LABEL_RE.findall(value or "")}


def _option_text(value) -> str:
    """TABLE_OPTIONS gives a description as a quoted string literal."""
    text = (value or "").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    return text


def _timestamp(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00").replace(" UTC", "+00:00"))


def build_extraction(rows: dict[str, list[dict]], include: list[str], exclude: list[str], scope_warnings) -> Extraction:
    """The region's answers, query by query, as one Extraction. Rows are dicts keyed by column name."""
    available = sorted(r["schema_name"] for r in rows["schemata"])
    schemas = [s for s in available if schema_in_scope(s, include, exclude)]
    in_scope = set(schemas)
    by_key: dict[tuple[str, str], DatasetMeta] = {}
    for r in rows["tables"]:
        if r["table_schema"] not in in_scope:
            continue
        meta = DatasetMeta(schema=r["table_schema"], name=r["table_name"], kind=KINDS.get(r["table_type"], TABLE))
        if r["table_type"] not in ("BASE TABLE", "VIEW"):
            meta.properties["table_type"] = r["table_type"]
        if r.get("mv_ddl"):
            meta.definition = r["mv_ddl"].strip()
        by_key[(meta.schema, meta.name)] = meta
    for r in rows["storage"]:
        meta = by_key.get((r["table_schema"], r["table_name"]))
        if meta is not None and meta.kind != VIEW:
            meta.row_estimate = int(r["total_rows"]) if r.get("total_rows") is not None else None
            meta.size_bytes = int(r["total_logical_bytes"]) if r.get("total_logical_bytes") is not None else None
            meta.last_modified = _timestamp(r.get("storage_last_modified_time"))
    for r in rows["options"]:
        meta = by_key.get((r["table_schema"], r["table_name"]))
        if meta is None:
            continue
        if r["option_name"] == "description":
            meta.comment = _option_text(r["option_value"])
        elif r["option_name"] == "labels":
            labels = parse_labels(r["option_value"])
            if labels:
                meta.properties["labels"] = labels
                meta.owner = labels.get("owner") or labels.get("team") or ""
    descriptions = {(r["table_schema"], r["table_name"], r["column_name"]): r["description"] for r in rows["column_descriptions"]}
    for r in rows["columns"]:
        key = (r["table_schema"], r["table_name"])
        meta = by_key.get(key)
        if meta is None:
            continue
        default = r.get("column_default")
        meta.columns.append(ColumnMeta(
            name=r["column_name"], data_type=r["data_type"], position=int(r["ordinal_position"]),
            nullable=r["is_nullable"] == "YES", default=None if default in (None, "NULL") else default,
            comment=descriptions.get((*key, r["column_name"]), "") or "",
        ))
        if r.get("is_partitioning_column") == "YES":
            meta.properties.setdefault("partitioned_by", []).append(r["column_name"])
        if r.get("clustering_ordinal_position") is not None:
            meta.properties.setdefault("clustered_by", []).append(r["column_name"])
    for r in rows["views"]:
        meta = by_key.get((r["table_schema"], r["table_name"]))
        if meta is not None:
            meta.definition = (r.get("view_definition") or "").strip()
    for meta in by_key.values():
        meta.columns.sort(key=lambda c: c.position)
    datasets = sorted(by_key.values(), key=lambda d: (d.schema, d.name))
    return Extraction(datasets=datasets, schemas=schemas, warnings=scope_warnings(available, include))


def describe_error(exc: Exception, project: str) -> str:
    message = " ".join(str(getattr(exc, "message", None) or exc).split())
    code = getattr(exc, "code", None)
    if code == 403 or "access denied" in message.lower() or "permission" in message.lower():
        return f"BigQuery refused access to project {project}: {message}"
    if code == 404:
        return f"BigQuery project {project} or its location was not found: {message}"
    return message or exc.__class__.__name__


class BigQueryConnector(Connector):
    engine_label = "BigQuery"

    @property
    def project(self) -> str:
        return self.url.host

    @property
    def location(self) -> str:
        return (self.url.query.get("location") or "US").lower()

    @property
    def region(self) -> str:
        return f"`{self.project}`.`region-{self.location}`"

    def _client(self):
        try:
            from google.cloud import bigquery
        except ImportError:
            raise ConnectorError("the BigQuery connector needs the google-cloud-bigquery package (pip install google-cloud-bigquery)") from None
        if not self.project:
            raise ConnectorError("the URL names no project: write bigquery://PROJECT/DATASET?credentials=..")
        credentials = None
        if self.url.query.get("credentials"):
            info = parse_credentials(self.url.query["credentials"])
            from google.oauth2 import service_account

            credentials = service_account.Credentials.from_service_account_info(info)
        return bigquery.Client(project=self.project, credentials=credentials, location=self.location)

    def _run(self, client, sql: str, timeout: float | None = None) -> list[dict]:
        """The rows of one query job; given a timeout, the job is cancelled by BigQuery past it (job_timeout_ms), and
        the wait for its rows ends then too."""
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("project", "STRING", self.project)])
        if timeout is not None:
            config.job_timeout_ms = max(int(timeout * 1000), 1)
        job = client.query(sql, job_config=config, timeout=self.connect_timeout + 30)
        return [dict(row.items()) for row in job.result(timeout=self.statement_timeout if timeout is None else timeout)]

    def _answers(self) -> dict[str, list[dict]]:
        client = self._client()
        try:
            return {name: self._run(client, sql.format(region=self.region)) for name, sql in QUERIES.items()}
        except ConnectorError:
            raise
        except Exception as exc:  # google.api_core errors: one line, no secrets
            raise ConnectorError(self.clean_message(describe_error(exc, self.project))) from None

    def test(self) -> str:
        client = self._client()
        try:
            rows = self._run(client, QUERIES["schemata"].format(region=self.region))
        except Exception as exc:
            raise ConnectorError(self.clean_message(describe_error(exc, self.project))) from None
        return f"BigQuery project {self.project}, location {self.location.upper()} ({len(rows)} datasets)"

    def extract(self, request: ExtractRequest = ExtractRequest()) -> Extraction:
        include, exclude = list(request.include or ()), list(request.exclude or ())
        if not include and self.url.database:
            include = [self.url.database]
        return build_extraction(self._answers(), include, exclude, self.scope_warnings)


# Query history (issue 19): the region's INFORMATION_SCHEMA.JOBS, successful query jobs of the project since the
# last read (at most a day back), grouped by the hash BigQuery gives the query with its literals taken out.
# It needs bigquery.jobs.listAll on the project; without, the answer is a note.

JOBS_SQL = """
SELECT coalesce(query_info.query_hashes.normalized_literals, TO_HEX(MD5(query))) AS digest, ANY_VALUE(query) AS query,
       coalesce(user_email, '') AS user_email, COUNT(*) AS calls, MAX(creation_time) AS last_seen
FROM {region}.INFORMATION_SCHEMA.JOBS
WHERE creation_time >= TIMESTAMP('{since}') AND job_type = 'QUERY' AND state = 'DONE' AND error_result IS NULL
  AND statement_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'CREATE_TABLE_AS_SELECT')
GROUP BY 1, 3 ORDER BY calls DESC LIMIT {limit}
"""


def history_from_rows(rows) -> list[LoggedStatement]:
    """JOBS_SQL's rows as logged statements."""
    out = []
    for row in rows:
        if not row.get("digest") or not row.get("query"):
            continue
        last = _timestamp(row.get("last_seen"))
        out.append(LoggedStatement(digest=str(row["digest"]), text=row["query"], calls=int(row["calls"]),
                                   user=row.get("user_email") or "", last_seen=last))
    return out


def query_history(connector: BigQueryConnector, *, limit: int, since: datetime | None = None) -> QueryHistory:
    since = (since or datetime.now(timezone.utc) - timedelta(days=1)).astimezone(timezone.utc)
    try:
        client = connector._client()
        rows = connector._run(client, JOBS_SQL.format(region=connector.region, since=since.strftime("%Y-%m-%d %H:%M:%S+00"),
                                                      limit=int(limit)))
    except Exception as exc:  # google.api_core errors (an optional package): one line, no secrets
        return QueryHistory(False, note=connector.clean_message(
            f"BigQuery's INFORMATION_SCHEMA.JOBS could not be read ({describe_error(exc, connector.project)}); the source's "
            "account needs bigquery.jobs.listAll on the project."))
    return QueryHistory(True, statements=history_from_rows(rows), cumulative=False)


# Sampled profiles (opt-in per source, for tables without statistics Canon can read: BigQuery shows none per column).
# TABLESAMPLE SYSTEM (p PERCENT) reads p% of the table's storage blocks (and bills only those), never the whole
# table; aggregated in SQL. Each job may run only the time left in the budget (job_timeout_ms: BigQuery cancels it);
# one that runs past it ends the run (the rest are sampled next time).
_SAMPLED_ORDERED = {"integer", "decimal", "float", "date", "timestamp", "text"}


def _quoted(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def sample_query(project: str, schema: str, name: str, columns: list[tuple[str, str]], percent: float) -> str:
    parts = aggregates(columns, _quoted, as_text="CAST({} AS STRING)", ordered=_SAMPLED_ORDERED,
                       counted=_SAMPLED_ORDERED | {"boolean"})
    listed = ", ".join(f"{part} AS v{i}" for i, part in enumerate(parts))
    return f"SELECT {listed} FROM {_quoted(project)}.{_quoted(schema)}.{_quoted(name)} TABLESAMPLE SYSTEM ({float(percent)!r} PERCENT)"


def _timed_out(exc: Exception) -> bool:
    """A job cancelled past its job_timeout_ms, or a wait for its rows that ran out."""
    text = str(getattr(exc, "message", None) or exc).lower()
    return isinstance(exc, TimeoutError) or "timed out" in text or "timeout" in text or "job execution was cancelled" in text


def sample_profiles(connector: BigQueryConnector, tables: list[tuple[str, str, list[tuple[str, str]]]], *,
                    percent: float, budget_s: float) -> tuple[dict, dict, bool]:
    """Profiles of these tables ((schema, name, [(column, type family)])) from TABLESAMPLE SYSTEM, in order, until the
    budget is spent (see sampling.py for the contract). Counts are of the sample."""
    budget = Budget(budget_s)
    profiles, problems = {}, {}
    client = connector._client()
    for schema, name, columns in budget.tables(tables):
        try:
            rows = connector._run(client, sample_query(connector.project, schema, name, columns, percent), timeout=budget.left())
        except ConnectorError:
            raise
        except Exception as exc:  # google.api_core errors (an optional package)
            if _timed_out(exc):
                problems[(schema, name)] = budget.overrun()
                return profiles, problems, False
            problems[(schema, name)] = f"no sampled profile: {connector.clean_message(describe_error(exc, connector.project))}"
            continue
        row = [rows[0][f"v{i}"] for i in range(1 + 6 * len(columns))] if rows else [0] + [None] * (6 * len(columns))
        profiles[(schema, name)] = profile_from_aggregates(row, columns, f"sample {percent:g}% (TABLESAMPLE SYSTEM, {int(row[0] or 0):,} rows)")
    return profiles, problems, budget.complete
