"""Home page items sources know of: sources whose last crawl failed (catalog.core.attention)."""

from django.urls import reverse

from catalog.core.attention import Attention, Example, register_attention
from catalog.sources.models import Crawl, Source


def failing_sources():
    """Sources whose last crawl failed: what the catalog shows of them is as old as their last good crawl."""
    return Source.objects.filter(last_crawl__status=Crawl.FAILED).select_related("last_crawl").order_by("name")


@register_attention(order=30)
def failing() -> Attention:
    failing_now = failing_sources()
    examples = [Example(s.name, s.get_absolute_url(), (s.last_crawl.error or "")[:120]) for s in failing_now[:3]]
    return Attention(key="failing-sources", title="Failing sources", count=failing_now.count(),
                     url=reverse("source-list") + "?status=failed", empty="Every source's last crawl worked.", examples=examples)
