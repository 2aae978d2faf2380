"""What lineage adds to search: a dataset many views read ranks higher. The search app imports this module
when it is ready (see catalog.core.searchindex)."""

from __future__ import annotations

from django.db.models import Count

from catalog.core.searchindex import dataset_readers
from catalog.lineage.models import LineageEdge


def upstreams(dataset_ids) -> set[int]:
    """The catalog's datasets these views read: a crawl that changed a view changes who reads them."""
    return set(LineageEdge.objects.filter(downstream_id__in=list(dataset_ids), upstream__isnull=False).values_list(
        "upstream_id", flat=True))


@dataset_readers(upstream_of=upstreams)
def views_reading(dataset_ids, **options):
    """How many views read each dataset."""
    return LineageEdge.objects.filter(upstream_id__in=dataset_ids).values_list("upstream_id").annotate(n=Count("id"))
