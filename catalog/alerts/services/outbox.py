"""The outbox: the one place email is queued and sent. Every app that tells people something
queues it here (outbox_queue), in the transaction of the change it tells about. A message is
claimed by one sender with a conditional UPDATE, so two tasks (or two workers) never send it
twice; a failed send goes back to pending with a backoff and is retried until it goes through."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, F, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.alerts.mailerrors import send_error_in_words
from catalog.alerts.models import OutboxMessage
from catalog.core.sourceurl import scrub

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
STALE_CLAIM = timedelta(minutes=10)


@dataclass
class Email:
    """One message to queue. `key` names it once and for all (`crawl:<id>:user:<id>`): a key already
    in the outbox is not queued again, so a retried crawl or task cannot double a message."""

    key: str
    kind: str
    user: object  # an active user with an email address: the message goes to user.email
    subject: str
    body_text: str
    body_html: str = ""
    crawl: object | None = None


def outbox_queue(emails: list[Email]) -> list[OutboxMessage]:
    """Queue messages to be sent as soon as they are due (now). Call it inside the transaction of
    the change the messages tell about, and flush after commit. Keys already queued are left as
    they are."""
    messages = [OutboxMessage(
        key=email.key, kind=email.kind, user=email.user, recipient=email.user.email, subject=email.subject,
        body_text=email.body_text, body_html=email.body_html, crawl=email.crawl, next_attempt_at=timezone.now(),
    ) for email in emails]
    return OutboxMessage.objects.bulk_create(messages, ignore_conflicts=True)


def outbox_retry_now(message: OutboxMessage) -> bool:
    """A person asked to send a pending message now rather than at its next retry. True when it was
    sent; otherwise the message is refreshed with why it still fails. A message not pending (sent,
    or being sent) is left alone."""
    if message.status != OutboxMessage.PENDING:
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    if outbox_send(message.pk):
        return True
    message.refresh_from_db()
    return False


def backoff(attempts: int) -> timedelta:
    """CANON_OUTBOX_RETRY_SECONDS after the first failure (30 s by default), doubling, at most an hour."""
    return min(timedelta(seconds=settings.CANON_OUTBOX_RETRY_SECONDS * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def outbox_send(message_id: int) -> bool:
    """Send one message if it is due and nobody else has it. True when it was sent now."""
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(
        Q(status=OutboxMessage.PENDING) | Q(status=OutboxMessage.SENDING, claimed_at__lt=now - STALE_CLAIM), pk=message_id
    ).update(status=OutboxMessage.SENDING, claimed_at=now)
    if not claimed:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        # Receivers that de-duplicate by Message-ID see one message even after a crash mid-send.
        headers={"Message-ID": f"<{message.key.replace(':', '.')}@canon>", "X-Canon-Key": message.key},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        email.send(fail_silently=False)
    except Exception as exc:
        attempts = message.attempts + 1
        error = scrub(f"{exc.__class__.__name__}: {exc}")[:1000]
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.PENDING, attempts=attempts, last_error=error, next_attempt_at=now + backoff(attempts), claimed_at=None,
            first_failed_at=Coalesce("first_failed_at", now), last_failed_at=now,
        )
        logger.warning("email %s to %s failed (attempt %s): %s", message.key, message.recipient, attempts, error)
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.SENT, attempts=message.attempts + 1, sent_at=timezone.now(), last_error=""
    )
    return True


def outbox_flush(limit: int = 500) -> int:
    """Send every due message (new ones, retries, and claims abandoned by a dead worker)."""
    now = timezone.now()
    due = OutboxMessage.objects.filter(
        Q(status=OutboxMessage.PENDING, next_attempt_at__lte=now) | Q(status=OutboxMessage.SENDING, claimed_at__lt=now - STALE_CLAIM)
    ).order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit]
    return sum(1 for message_id in list(due) if outbox_send(message_id))


def outbox_failing_for(user) -> dict | None:
    """Whether mail to this person is failing, for their Watching page; None when it is not.

    Failing: a message to them not sent yet after at least one failed attempt (each is retried
    until it goes through). Says how many, since when, and the latest error in plain words with
    its scrubbed text (errors are scrubbed when recorded).
    """
    failing = OutboxMessage.objects.filter(user=user, attempts__gt=0).exclude(status=OutboxMessage.SENT)
    summary = failing.aggregate(count=Count("id"), since=Min(Coalesce("first_failed_at", "created_at")))
    if not summary["count"]:
        return None
    latest = failing.order_by(F("last_failed_at").desc(nulls_last=True), "-id").values("recipient", "last_error", "last_failed_at", "next_attempt_at").first()
    return {**summary, **latest, "in_words": send_error_in_words(latest["last_error"]),
            "retry_due": latest["next_attempt_at"] <= timezone.now()}
