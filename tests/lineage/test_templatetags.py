"""The dataset page's Lineage section: the same nodes the walks give, and no walk for a dataset without edges."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.inventory.models import Dataset
from catalog.lineage.models import LineageEdge
from catalog.lineage.selectors import lineage_downstream, lineage_upstream
from catalog.lineage.templatetags.lineage import lineage_section
from tests.factories import make_datasets, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def datasets():
    source = make_source("lake")
    make_datasets(source, 7)
    table, view, view_of_view, removed_view, alone, only_unresolved, _plain = Dataset.objects.order_by("id")
    Dataset.objects.filter(pk=removed_view.pk).update(removed_at=timezone.now())
    LineageEdge.objects.bulk_create([
        LineageEdge(source=source, downstream=view, upstream=table, upstream_name=table.qualified_name),
        LineageEdge(source=source, downstream=view_of_view, upstream=view, upstream_name=view.qualified_name),
        LineageEdge(source=source, downstream=removed_view, upstream=alone, upstream_name=alone.qualified_name),
        LineageEdge(source=source, downstream=only_unresolved, upstream=None, upstream_name="other_db.public.elsewhere"),
    ])
    return {d.name: d for d in Dataset.objects.select_related("source")}, (table, view, view_of_view, alone, only_unresolved)


def _names(nodes):
    return [(n.depth, n.name) for n in nodes]


def test_the_section_shows_what_the_walks_find_for_every_dataset(datasets):
    by_name, (table, view, view_of_view, alone, only_unresolved) = datasets
    for dataset in by_name.values():
        section = lineage_section({}, dataset)
        assert _names(section["upstream"]) == _names(lineage_upstream(dataset))
        assert _names(section["downstream"]) == _names(lineage_downstream(dataset))
    assert _names(lineage_section({}, table)["downstream"]) == [(1, view.qualified_name), (2, view_of_view.qualified_name)]
    assert _names(lineage_section({}, only_unresolved)["upstream"]) == [(1, "other_db.public.elsewhere")]
    # Read only by a removed view: an edge exists, the walk runs, and finds nothing to show.
    assert lineage_section({}, alone)["upstream"] == [] and lineage_section({}, alone)["downstream"] == []


def test_a_dataset_without_edges_costs_one_small_query_not_the_two_walks(datasets):
    by_name, (table, *_) = datasets
    plain = Dataset.objects.exclude(pk__in=LineageEdge.objects.values("downstream_id")).exclude(
        pk__in=LineageEdge.objects.filter(upstream__isnull=False).values("upstream_id")).select_related("source").get()
    with CaptureQueriesContext(connection) as queries:
        section = lineage_section({}, plain)
    assert section["upstream"] == [] and section["downstream"] == []
    assert len(queries) == 1 and "inventory_dataset" not in queries[0]["sql"], [q["sql"] for q in queries]
    with CaptureQueriesContext(connection) as queries:
        lineage_section({}, table)
    # The check, one hop up (nothing), three down; then by column: the dataset's columns (it has none here, so
    # nothing is asked about what reads them), whether any column edge touches it, where each comes from.
    assert len(queries) == 1 + 1 + 3 + 1 + 1 + 1, " | ".join(q["sql"][:70] for q in queries)
