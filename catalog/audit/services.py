"""Keeping the audit log: entries older than CANON_AUDIT_KEEP_DAYS go, and nothing else ever does."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.audit.models import AuditEntry, AuditPrunePermit


def audit_prune(*, now=None, batch_size: int = 5000) -> int:
    """Delete the entries older than the kept time; returns how many. The permit row exists only inside each
    deleting transaction: on PostgreSQL the trigger refuses a delete without it (migration 0001)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CANON_AUDIT_KEEP_DAYS)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(AuditEntry.objects.filter(timestamp__lt=cutoff).order_by("id").values_list("id", flat=True)[:batch_size])
            if not ids:
                return deleted
            permit = AuditPrunePermit.objects.create()
            count, _ = AuditEntry.objects.filter(id__in=ids).delete()
            permit.delete()
        deleted += count
