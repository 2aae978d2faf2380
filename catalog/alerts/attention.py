"""Home page items alerts knows of: breaking changes this week, and what each hits (catalog.core.attention)."""

from datetime import timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from catalog.alerts.impact import impacts_for
from catalog.core.attention import Attention, Example, register_attention
from catalog.history.diff import BREAKING
from catalog.history.models import SchemaChange

WEEK = timedelta(days=7)


@register_attention(order=10)
def breaking_changes() -> Attention:
    """Breaking changes of the last seven days; examples: the datasets with most of them, and what they hit."""
    recent = SchemaChange.objects.filter(severity=BREAKING, created_at__gte=timezone.now() - WEEK)
    by_dataset = list(recent.values("dataset_id", "dataset_name").annotate(n=Count("id")).order_by("-n", "dataset_name")[:3])
    hits = impacts_for([row["dataset_id"] for row in by_dataset]) if by_dataset else {}
    examples = []
    for row in by_dataset:
        hit = hits.get(row["dataset_id"], [])
        note = f"{row['n']} change{'s' if row['n'] != 1 else ''}"
        note += f"; hits {', '.join(hit[:3])}{' and more' if len(hit) > 3 else ''}" if hit else "; nothing known reads it"
        examples.append(Example(row["dataset_name"], reverse("dataset-history", args=[row["dataset_id"]]), note))
    return Attention(key="breaking-changes", title="Breaking changes this week", count=recent.count(),
                     url=reverse("change-list") + "?severity=breaking&since=7d", empty="No breaking change this week.",
                     examples=examples)
