"""Messages to the owners of some datasets, for apps above alerts that tell owners something (duplicates: a new copy).
Alerts stays the one writer of the outbox; the caller says what and to whom, by datasets."""

from __future__ import annotations

import hashlib

from django.utils import timezone

from catalog.alerts.models import OutboxMessage


def owners_tell(datasets, *, key: str, kind: str, subject: str, body_text: str, crawl=None) -> list[OutboxMessage]:
    """Queue one message to each person owning any of these datasets: the person an owner identity is mapped to (active,
    with an email), or else the identity's own email. One message per address whichever datasets they own, keyed
    `<key>:to:<address digest>`, so the same key queued again (a retried crawl, a pair found again) sends nothing more.
    Call it inside the transaction of the change it tells about; returns the messages queued now."""
    recipients: dict[str, tuple[str, object]] = {}  # the address lower-cased (one message each) -> as spelled, the person
    for dataset in datasets:
        owner = dataset.owner if dataset.owner_id else None
        if owner is None:
            continue
        user = owner.user if owner.user_id and owner.user.is_active and owner.user.email else None
        address = user.email if user is not None else owner.email
        if address and address.strip():
            recipients.setdefault(address.strip().lower(), (address.strip(), user))
    now = timezone.now()
    messages = [OutboxMessage(
        key=f"{key}:to:{hashlib.sha256(folded.encode()).hexdigest()[:24]}", kind=kind, user=user, recipient=address,
        subject=subject[:300], body_text=body_text, crawl=crawl, next_attempt_at=now,
    ) for folded, (address, user) in sorted(recipients.items())]
    if not messages:
        return []
    keys = [m.key for m in messages]
    queued_before = set(OutboxMessage.objects.filter(key__in=keys).values_list("key", flat=True))
    OutboxMessage.objects.bulk_create([m for m in messages if m.key not in queued_before], ignore_conflicts=True)
    return [m for m in messages if m.key not in queued_before]
