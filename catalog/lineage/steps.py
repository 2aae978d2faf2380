"""Lineage's crawl step: the source's view edges, derived again only when something they depend on moved."""

from __future__ import annotations

from django.utils.module_loading import import_string

from catalog.inventory.models import BuildSql, Dataset
from catalog.inventory.outcome import CrawlOutcome
from catalog.lineage.keys import lineage_key
from catalog.lineage.models import ColumnLineageEdge, ColumnLineageState, LineageEdge
from catalog.sources.models import SourceState

# By dotted path: the refresh parses SQL with sqlglot, which a crawl that changed nothing never loads.
REFRESH = "catalog.lineage.services.lineage_refresh"


def refresh(outcome: CrawlOutcome) -> None:
    """Parses every view of the source, so only when a dataset was added, changed or removed, or what the
    edges depend on besides the datasets (lineage_key: parser, engine, default catalog) is not what the
    last crawl remembered; then remembers it."""
    source = outcome.source
    key = lineage_key(source)
    known_key = SourceState.objects.filter(source_id=source.pk).values_list("lineage_key", flat=True).first()
    if (outcome.anything_changed or known_key != key) and _has_lineage(source.pk):
        import_string(REFRESH)(source)
    if known_key != key:
        SourceState.objects.update_or_create(source_id=source.pk, defaults={"lineage_key": key})


def _has_lineage(source_id: int) -> bool:
    """Whether a refresh has anything to derive or to take back: SQL to read (a view's, a dbt model's), or edges
    and states left from before. A source without (a bucket, a warehouse of tables only) never loads the parser."""
    return (Dataset.objects.filter(source_id=source_id, removed_at__isnull=True).exclude(definition="").exists()
            or BuildSql.objects.filter(dataset__source_id=source_id).exists()
            or LineageEdge.objects.filter(source_id=source_id).exists()
            or ColumnLineageEdge.objects.filter(source_id=source_id).exists()
            or ColumnLineageState.objects.filter(source_id=source_id).exists())
