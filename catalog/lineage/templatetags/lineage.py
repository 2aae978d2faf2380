from django import template
from django.db.models import Q

from catalog.alerts.impact import impact_providers
from catalog.inventory.models import BuildSql
from catalog.lineage.models import ColumnLineageEdge, ColumnLineageState, LineageEdge
from catalog.lineage.selectors import MAX_HOPS, column_lineage_rows, lineage_downstream, lineage_picture, lineage_upstream

register = template.Library()


@register.inclusion_tag("lineage/_lineage.html", takes_context=True)
def lineage_section(context, dataset, hops: int = MAX_HOPS):
    """The dataset page's Lineage section: a picture of the neighbourhood, a few hops each way (its columns
    on demand, `?lineage_columns=1`), and per column where it comes from and what reads it.

    Most datasets are plain tables no view reads: one small query says the dataset has no edge at
    all, and the two walks (each a join over datasets and sources, costly to build more than to run)
    are not made. With no edge both walks would find nothing, so the section is the same."""
    request = context.get("request")
    with_columns = request is not None and request.GET.get("lineage_columns") == "1"
    state = ColumnLineageState.objects.filter(dataset_id=dataset.pk).values_list("table_level_reason", flat=True).first() \
        if dataset.definition else ""  # only views, and datasets built from a tool's SQL (below), have column lineage of their own
    empty = {"dataset": dataset, "upstream": [], "downstream": [], "hops": hops, "picture": [], "rows": [],
             "with_columns": with_columns, "table_level_reason": state or "", "built_from": None}
    if not LineageEdge.objects.filter(Q(downstream_id=dataset.pk) | Q(upstream_id=dataset.pk)).exists():
        return empty
    upstream, downstream = lineage_upstream(dataset, hops), lineage_downstream(dataset, hops)
    if upstream and not dataset.definition:
        # A dataset the warehouse keeps no SQL for that reads something: built from a tool's SQL (dbt's compiled SQL).
        empty["built_from"] = BuildSql.objects.filter(dataset_id=dataset.pk).only("origin", "origin_id", "sql").first()
        if empty["built_from"] is not None:
            empty["table_level_reason"] = ColumnLineageState.objects.filter(dataset_id=dataset.pk).values_list(
                "table_level_reason", flat=True).first() or ""
    columns = list(dataset.columns.order_by("position").values_list("name", flat=True))
    readers: dict = {}
    if ColumnLineageEdge.objects.filter(Q(downstream_id=dataset.pk) | Q(upstream_id=dataset.pk)).exists() or downstream:
        for provider in impact_providers():
            for key, found in provider.column_readers_of([(dataset.pk, c) for c in columns]).items():
                readers.setdefault(key, []).extend(found)
    picture = lineage_picture(dataset, upstream, downstream, columns=with_columns)
    return {**empty, "upstream": upstream, "downstream": downstream, "picture": picture,
            "picture_before": [hop for hop in picture if hop.depth < 0], "picture_after": [hop for hop in picture if hop.depth > 0],
            "rows": column_lineage_rows(dataset, columns, readers)}
