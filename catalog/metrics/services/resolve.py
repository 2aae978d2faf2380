"""A definition's SQL against the catalog: which datasets and columns it reads (two queries, whatever the SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Q

from catalog.core.deadline import Budget, TimeLimitExceeded
from catalog.core.sqlnames import TableRef
from catalog.inventory.models import Column, Dataset
from catalog.metrics.sql import (
    DEFAULT_SCHEMAS,
    DIALECT_LABELS,
    MAX_SQL_DEPTH,
    SQL_TIME_BUDGET,
    Analysis,
    MetricSqlError,
    ResolvedTable,
    analyse,
    format_sql,
    over_budget_error,
    parse_metric_sql,
    table_refs,
)


@dataclass
class SqlCheck:
    """What Canon understood of a definition's SQL. `error` is set when it does not parse; nothing else is then."""

    sql: str
    dialect: str
    error: MetricSqlError | None = None
    analysis: Analysis = field(default_factory=Analysis)
    datasets: dict[int, Dataset] = field(default_factory=dict)
    formatted: str = ""

    @property
    def dialect_label(self) -> str:
        return DIALECT_LABELS.get(self.dialect, self.dialect)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def warnings(self) -> list[str]:
        return self.analysis.warnings

    def used_datasets(self) -> list[Dataset]:
        ids = dict.fromkeys(key for _, key in self.analysis.tables if key is not None)
        return [self.datasets[i] for i in ids]

    def used_columns(self) -> list[tuple[Dataset, str, str]]:
        """(dataset, column name, data type) for every column resolved."""
        out = []
        for dataset_id, name in self.analysis.columns:
            dataset = self.datasets[dataset_id]
            out.append((dataset, name, dataset._canon_columns.get(name, "")))
        return out


def _max_chars() -> int:
    return getattr(settings, "CANON_METRIC_SQL_MAX_CHARS", 20_000)


def _max_depth() -> int:
    return getattr(settings, "CANON_METRIC_SQL_MAX_DEPTH", MAX_SQL_DEPTH)


def _time_budget() -> float:
    return getattr(settings, "CANON_METRIC_SQL_TIME_BUDGET", SQL_TIME_BUDGET)


def metric_resolve_tables(refs: list[TableRef], *, dialect: str, source=None) -> tuple[dict[TableRef, ResolvedTable | str], dict[int, Dataset]]:
    """Each ref to the present dataset it names (case-insensitively, exact case preferred), or to why not.

    An unqualified name is looked up in every schema; where several hold it, the
    dialect's default schema (public, main) wins, else it is ambiguous. Without a
    source, a name found in several sources is ambiguous too. The catalog part of a
    three-part name (a Snowflake database, a BigQuery project) is not matched:
    Canon's datasets are schema.name within a source.
    """
    if not refs:
        return {}, {}
    names = {ref.name.lower() for ref in refs}
    candidates = Dataset.objects.present().select_related("source").filter(reduce(or_, (Q(name__iexact=n) for n in names)))
    if source is not None:
        candidates = candidates.filter(source=source)
    by_name: dict[str, list[Dataset]] = {}
    for dataset in candidates:
        by_name.setdefault(dataset.name.lower(), []).append(dataset)

    resolved: dict[TableRef, ResolvedTable | str] = {}
    chosen: dict[int, Dataset] = {}
    defaults = DEFAULT_SCHEMAS.get(dialect, ())
    for ref in refs:
        matches = by_name.get(ref.name.lower(), [])
        if ref.schema:
            matches = [d for d in matches if d.schema_name.lower() == ref.schema.lower()]
        if len(matches) > 1:
            exact = [d for d in matches if d.name == ref.name and (not ref.schema or d.schema_name == ref.schema)]
            matches = exact or matches
        if len(matches) > 1 and not ref.schema:
            preferred = [d for d in matches if d.schema_name.lower() in defaults]
            if len({d.schema_name for d in preferred}) == 1:
                matches = preferred
        if not matches:
            where = f" of source {source.name}" if source is not None else ""
            resolved[ref] = f"is not in the catalog{where}"
            continue
        if len({d.source_id for d in matches}) > 1:
            names_ = ", ".join(sorted(f"{d.source.name} ({d.qualified_name})" for d in matches))
            resolved[ref] = f"is in several sources: {names_}; choose the definition's source"
            continue
        if len(matches) > 1:
            names_ = ", ".join(sorted(d.qualified_name for d in matches))
            resolved[ref] = f"is ambiguous: {names_}; qualify it with its schema"
            continue
        chosen[matches[0].pk] = matches[0]
    columns: dict[int, dict[str, str]] = {pk: {} for pk in chosen}
    for dataset_id, name, data_type in Column.objects.filter(dataset_id__in=list(chosen)).order_by("dataset_id", "position").values_list(
        "dataset_id", "name", "data_type"
    ):
        columns[dataset_id][name] = data_type
    for ref in refs:
        if ref in resolved:
            continue
        matches = [d for d in by_name.get(ref.name.lower(), []) if d.pk in chosen]
        if ref.schema:
            matches = [d for d in matches if d.schema_name.lower() == ref.schema.lower()]
        dataset = next((d for d in matches if d.name == ref.name), None) or next(
            (d for d in matches if not ref.schema and d.schema_name.lower() in defaults), None) or matches[0]
        dataset._canon_columns = columns[dataset.pk]
        resolved[ref] = ResolvedTable(key=dataset.pk, schema=dataset.schema_name, name=dataset.name, columns=columns[dataset.pk])
    return resolved, chosen


def metric_check_sql(sql: str, dialect: str, *, source=None) -> SqlCheck:
    """Parse, resolve against the catalog, fingerprint. Never raises for bad SQL: `error` says what is wrong.

    Every SQL text a request or a task hands Canon comes through here, so the bounds hold everywhere:
    size and nesting are refused before parsing, and parsing, qualifying and layout share one time
    budget (CANON_METRIC_SQL_TIME_BUDGET), each stage under a hard stop for what is left of it. The
    catalog queries between stages are not stopped (their own statement timeout bounds them), but
    their time counts against the budget.
    """
    check = SqlCheck(sql=sql or "", dialect=dialect)
    budget = Budget(_time_budget())
    try:
        with budget.stage():
            query = parse_metric_sql(sql, dialect, max_chars=_max_chars(), max_depth=_max_depth())
            refs = table_refs(query)
        resolved, datasets = metric_resolve_tables(refs, dialect=dialect, source=source)
        with budget.stage():
            analysis = analyse(query, dialect, resolved, sql_text=sql)
    except MetricSqlError as exc:
        check.error = exc
        if len(sql or "") <= _max_chars():
            check.formatted = format_sql(sql, seconds=max(budget.remaining(), 0.0))
        return check
    except TimeLimitExceeded:
        check.error = over_budget_error(budget.seconds)
        check.formatted = (sql or "").strip()
        return check
    check.analysis = analysis
    check.datasets = datasets
    check.formatted = format_sql(sql, seconds=max(budget.remaining(), 0.0))
    return check
