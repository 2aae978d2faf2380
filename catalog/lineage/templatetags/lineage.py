from django import template
from django.db.models import Q

from catalog.lineage.models import LineageEdge
from catalog.lineage.selectors import MAX_HOPS, lineage_downstream, lineage_upstream

register = template.Library()


@register.inclusion_tag("lineage/_lineage.html")
def lineage_section(dataset, hops: int = MAX_HOPS):
    """The dataset page's Lineage section: what it reads and what reads it, a few hops each way.

    Most datasets are plain tables no view reads: one small query says the dataset has no edge at
    all, and the two walks (each a join over datasets and sources, costly to build more than to run)
    are not made. With no edge both walks would find nothing, so the section is the same."""
    if not LineageEdge.objects.filter(Q(downstream_id=dataset.pk) | Q(upstream_id=dataset.pk)).exists():
        return {"dataset": dataset, "upstream": [], "downstream": [], "hops": hops}
    return {
        "dataset": dataset,
        "upstream": lineage_upstream(dataset, hops),
        "downstream": lineage_downstream(dataset, hops),
        "hops": hops,
    }
