"""Questions about usage that pages and the home page share."""

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from catalog.inventory.models import Dataset


def unused_datasets(days: int | None = None):
    """Present datasets nobody read for `days` (CANON_UNUSED_DAYS), biggest first; only where the source's query
    history is read (elsewhere usage is unknown, never unused)."""
    days = days or settings.CANON_UNUSED_DAYS
    since = timezone.now().date() - timedelta(days=days - 1)
    return (Dataset.objects.filter(removed_at__isnull=True, source__usage__available=True)
            .filter(Q(usage__isnull=True) | Q(usage__last_used_on__isnull=True) | Q(usage__last_used_on__lt=since))
            .order_by(F("size_bytes").desc(nulls_last=True), "source__name", "schema_name", "name", "id"))
