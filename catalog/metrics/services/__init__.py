"""Writes and shared reads of metric definitions. Views, API, commands and the crawl all call these."""

from catalog.metrics.services.dbt import DbtImportReport, metrics_import_dbt
from catalog.metrics.services.definitions import (
    DuplicateMetric,
    MetricError,
    MetricPermissionError,
    metric_add_synonym,
    metric_check,
    metric_delete,
    metric_prepare,
    metric_recheck,
    metric_register,
    metric_restore,
    metric_set_status,
    metric_update,
    metric_values,
    metric_watch,
    metrics_refingerprint,
)
from catalog.metrics.services.duplicates import SAME_SQL_REASON, Candidate, metric_find_duplicates
from catalog.metrics.services.after_crawl import metrics_after_changes
from catalog.metrics.services.health import metric_apply_health, metric_health, metric_impacts
from catalog.metrics.services.resolve import SqlCheck, metric_check_sql, metric_resolve_tables

__all__ = [
    "Candidate", "DbtImportReport", "DuplicateMetric", "MetricError", "MetricPermissionError", "SqlCheck", "metric_add_synonym",
    "metric_apply_health", "metric_check", "metric_check_sql", "metric_delete", "metric_find_duplicates", "metric_health",
    "metric_impacts", "metric_prepare", "metric_recheck", "metric_register", "metric_resolve_tables", "metric_restore",
    "metric_set_status", "metric_update", "metric_values", "metric_watch", "metrics_after_changes", "metrics_import_dbt",
    "metrics_refingerprint", "SAME_SQL_REASON",
]
