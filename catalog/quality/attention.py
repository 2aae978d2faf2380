"""Home page items quality knows of: stale datasets (catalog.core.attention)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from catalog.core.attention import WARN, Attention, Example, register_attention
from catalog.quality.models import Freshness


@register_attention(order=40)
def stale_datasets() -> Attention:
    """Datasets past their cadence (unknown is never stale), the longest late first."""
    stale = Freshness.objects.stale()
    examples = [Example(f.dataset.qualified_name, f.dataset.get_absolute_url(), f"stale for {timesince(f.stale_since, timezone.now())}")
                for f in stale.select_related("dataset").order_by("stale_since")[:3]]
    return Attention(key="stale-datasets", title="Stale datasets", count=stale.count(), url=reverse("stale-list"), tone=WARN,
                     empty="Every dataset with a cadence is on time.", examples=examples)
