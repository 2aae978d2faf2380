from django import template

from catalog.lineage.selectors import MAX_HOPS, lineage_downstream, lineage_upstream

register = template.Library()


@register.inclusion_tag("lineage/_lineage.html")
def lineage_section(dataset, hops: int = MAX_HOPS):
    """The dataset page's Lineage section: what it reads and what reads it, a few hops each way."""
    return {
        "dataset": dataset,
        "upstream": lineage_upstream(dataset, hops),
        "downstream": lineage_downstream(dataset, hops),
        "hops": hops,
    }
