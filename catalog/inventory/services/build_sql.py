"""The SQL a tool builds a dataset with (a dbt model's compiled SQL), written by that tool's import.

Lineage reads it for datasets whose warehouse keeps no SQL (tables, incremental models). Imports sit in apps
side by side with lineage and must not import it: the write announces the sources whose build SQL moved
(`build_sql_changed`), and lineage, which connects to it, derives their edges again in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from catalog.inventory.models import BuildSql, Dataset
from catalog.inventory.signals import build_sql_changed


@dataclass(frozen=True)
class BuildSqlRecord:
    origin_id: str  # the tool's id (a dbt node's unique_id)
    sql: str  # "" when the tool had none (a manifest from `dbt parse`)
    database: str = ""  # the database the SQL's three-part names are local to
    reads: tuple[tuple[str, str], ...] = field(default=())  # (schema, name) it reads, for table-level edges without SQL


def build_sql_sync(origin: str, records: dict[int, BuildSqlRecord], *, owned_prefix: str) -> set[int]:
    """Make `origin`'s build SQL exactly `records` (dataset id -> record) among the records whose origin_id
    starts with `owned_prefix` (what this import speaks for, e.g. one dbt project's models): adds, updates,
    removes what it no longer gives. Announces, then returns, the ids of the sources whose build SQL moved."""
    now = timezone.now()
    moved_datasets: set[int] = set()
    with transaction.atomic():
        existing = {row.dataset_id: row for row in BuildSql.objects.select_for_update().filter(origin=origin)}
        for dataset_id, record in records.items():
            row = existing.get(dataset_id)
            reads = [list(pair) for pair in record.reads]
            wanted = (record.origin_id, record.sql, record.database, reads)
            if row is not None and (row.origin_id, row.sql, row.database, list(row.reads or [])) == wanted:
                continue
            BuildSql.objects.update_or_create(dataset_id=dataset_id, defaults={
                "origin": origin, "origin_id": record.origin_id, "sql": record.sql, "database": record.database,
                "reads": reads, "updated_at": now})
            moved_datasets.add(dataset_id)
        gone = [dataset_id for dataset_id, row in existing.items()
                if dataset_id not in records and row.origin_id.startswith(owned_prefix)]
        if gone:
            BuildSql.objects.filter(dataset_id__in=gone).delete()
            moved_datasets.update(gone)
        sources = set(Dataset.objects.filter(id__in=moved_datasets).values_list("source_id", flat=True)) if moved_datasets else set()
        if sources:
            build_sql_changed.send(sender=BuildSql, source_ids=sorted(sources))
    return sources


def build_sql_of_source(source_id: int) -> dict[int, BuildSql]:
    """The build SQL of the source's present datasets, by dataset id."""
    return {row.dataset_id: row for row in BuildSql.objects.filter(dataset__source_id=source_id, dataset__removed_at__isnull=True)}
