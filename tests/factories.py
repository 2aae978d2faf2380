"""Catalog rows made quickly, for tests about many datasets (pages, sorting, query counts).

Rows go in through catalog.core.bulk.insert_rows (COPY on PostgreSQL), built from an
unsaved model instance so that every field gets its model default.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from catalog.core.bulk import insert_rows
from catalog.inventory.models import Dataset
from catalog.sources.services import source_create

KINDS = ["table", "view", "materialized_view", "partitioned_table", "foreign_table"]


def make_source(name: str = "lake", url: str = "postgresql://reader:not-used@127.0.0.1:1/lake"):
    """A source that is never crawled: its URL need not answer."""
    return source_create(name=name, url=url)


def dataset_values(i: int) -> dict:
    """Distinct, predictable values for dataset number i (so every sort order is known)."""
    now = timezone.now()
    return {
        "schema_name": f"s{i % 7}",
        "name": f"t{i:06d}",
        "kind": KINDS[i % len(KINDS)],
        "row_estimate": (i * 7919) % 1_000_003,
        "size_bytes": (i * 104729) % 10_000_019,
        "column_count": (i * 31) % 997,
        "first_seen_at": now - timedelta(minutes=(i * 37) % 100_003),
        "last_changed_at": now,
    }


def make_datasets(source, count: int, start: int = 0, **overrides) -> int:
    fields = [f.attname for f in Dataset._meta.concrete_fields if not f.primary_key]
    template = Dataset(source=source, **{k: v for k, v in dataset_values(0).items()})

    def rows():
        for i in range(start, start + count):
            values = {**dataset_values(i), **overrides}
            for key, value in values.items():
                setattr(template, key, value)
            template.source_id = source.pk
            yield tuple(getattr(template, f) for f in fields)

    return insert_rows(Dataset, fields, rows())
