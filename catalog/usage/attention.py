"""Home page items usage knows of: datasets nobody reads (catalog.core.attention)."""

from django.conf import settings
from django.urls import reverse

from catalog.core.attention import WARN, Attention, Example, register_attention
from catalog.usage.selectors import unused_datasets


@register_attention(order=60)
def unused() -> Attention:
    days = settings.CANON_UNUSED_DAYS
    datasets = unused_datasets(days)
    examples = [Example(d.qualified_name, d.get_absolute_url(), d.source.name) for d in datasets.select_related("source")[:3]]
    return Attention(key="unused", title=f"Unused for {days} days", count=datasets.count(), url=reverse("usage-unused"), tone=WARN,
                     empty="Every dataset whose usage Canon can read is read.", examples=examples)
