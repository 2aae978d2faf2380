"""Lineage's receivers of other apps' signals. Light on purpose: AppConfig.ready connects them in every process
(a command, a worker), and the SQL analysis they lead to (sqlglot) is loaded by dotted path only when one fires,
as the crawl loads its steps, so that starting a process does not load the SQL parser."""

from django.utils.module_loading import import_string

AFTER_BUILD_SQL = "catalog.lineage.services.lineage_after_build_sql"


def after_build_sql(sender=None, source_ids=(), **kwargs) -> None:
    """inventory's build_sql_changed: a tool's import moved build SQL; those sources' edges are derived again."""
    import_string(AFTER_BUILD_SQL)(sender, source_ids=source_ids, **kwargs)
