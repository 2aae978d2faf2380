"""What alerts adds to search: a dataset many people watch ranks higher. The search app imports this module
when it is ready (see catalog.core.searchindex)."""

from __future__ import annotations

from django.db.models import Count

from catalog.alerts.models import Subscription
from catalog.core.searchindex import dataset_watchers


@dataset_watchers
def subscribers(dataset_ids, **options):
    """How many active dataset subscriptions each dataset has."""
    return Subscription.objects.active().filter(dataset_id__in=dataset_ids).values_list("dataset_id").annotate(n=Count("id"))
