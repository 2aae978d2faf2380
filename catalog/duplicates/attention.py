"""Home page items duplicates knows of: groups of copies and what the copies cost (catalog.core.attention)."""

from urllib.parse import urlencode

from django.urls import reverse

from catalog.core.attention import WARN, Attention, Example, register_attention
from catalog.duplicates.selectors import copies_cost, groups_queryset


@register_attention(order=50)
def duplicate_groups() -> Attention:
    """Groups of copies, best evidence first, with what the undecided copies cost a month."""
    groups = groups_queryset()
    count = groups.count()
    examples = [Example(f"{g.original.schema_name}.{g.original.name}", reverse("duplicate-list") + "?" + urlencode({"q": g.original.name}),
                        f"{g.size - 1} cop{'y' if g.size == 2 else 'ies'}, {g.get_kind_display()}")
                for g in groups.select_related("original").prefetch_related(None)[:3]] if count else []
    cost = copies_cost(groups)["total"] if count else 0
    return Attention(key="duplicates", title="Groups of copies" + (f" · ${cost:,.2f} a month" if cost else ""),
                     count=count, url=reverse("duplicate-list"), tone=WARN, empty="No dataset or pipeline is built twice.",
                     examples=examples)
