"""Home page items metrics knows of: broken definitions (catalog.core.attention)."""

from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse

from catalog.core.attention import Attention, Example, register_attention
from catalog.metrics.models import MetricDefinition


@register_attention(order=20)
def broken_definitions() -> Attention:
    """Definitions whose SQL reads something a crawl removed, renamed or retyped; certified ones first, with why."""
    broken = MetricDefinition.objects.filter(broken=True)
    certified_first = Case(When(status=MetricDefinition.CERTIFIED, then=Value(0)), default=Value(1), output_field=IntegerField())
    examples = [Example(d.title or d.name, d.get_absolute_url(), "; ".join(str(r) for r in d.broken_reasons[:2]) or d.get_status_display())
                for d in broken.order_by(certified_first, "name")[:3]]
    return Attention(key="broken-definitions", title="Broken definitions", count=broken.count(),
                     url=reverse("metric-list") + "?broken=1", empty="Every definition runs.", examples=examples)
