"""Catalog rows made directly (no crawl) and indexed through the same services the catalog's writes call."""

from django.utils import timezone

from catalog.inventory.models import Column, Dataset
from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import metric_register, metric_set_status
from catalog.search.engine import Filters, search
from catalog.search.index import search_index_datasets


def add_dataset(source, schema, name, columns=(), *, description="", comment="", removed=False, owner=None, index=True):
    """A dataset and its columns ((name, type) or (name, type, comment)), indexed as a crawl would."""
    now = timezone.now()
    dataset = Dataset.objects.create(source=source, schema_name=schema, name=name, first_seen_at=now, last_changed_at=now,
                                     column_count=len(columns), description=description, comment=comment, owner=owner,
                                     removed_at=now if removed else None, fingerprint=f"fp-{schema}-{name}")
    Column.objects.bulk_create([Column(dataset=dataset, name=c[0], data_type=c[1], comment=c[2] if len(c) > 2 else "", position=i + 1)
                                for i, c in enumerate(columns)])
    if index:
        search_index_datasets([dataset.pk])
    return dataset


def add_metric(user, source, name, *, status=MetricDefinition.DRAFT, synonyms=(), description="", title="", tags=(),
               sql="SELECT count(*) AS n FROM sales.orders"):
    definition = metric_register(user=user, data={"name": name, "title": title, "description": description, "sql": sql,
                                                  "source": source, "synonyms": list(synonyms), "tags": list(tags)},
                                 check_duplicates=False)
    if status != MetricDefinition.DRAFT:
        metric_set_status(definition, user=user, status=status)
    return definition


def titles(query, **filters):
    return [h.title for h in search(query, filters=Filters(**filters), limit=50).hits]


def hits(query, **filters):
    return search(query, filters=Filters(**filters), limit=50).hits
